import BoardLayout
import Displays
import Foundation
import GRDB
import LaneCore
import LaneJournal
import LaneLink
import LinkCore
import Logging
import RoadCargo

/// The imperative shell around ``LaneStateMachine``: feeds it inputs one at
/// a time and carries out its actions against the journal, the link, the
/// boards, the lamps, the timers and the intercom.
///
/// Inputs are processed strictly in order by ``run()``: a board drawn for one
/// input can never be overtaken by the board of a later one. For every input,
/// the journal entries and the link messages it causes are committed in one
/// SQLite transaction before any other effect, so after kill -9 at any point
/// either both exist or neither does, and the outbox resends what central
/// has not acknowledged.
public actor LaneController {
    /// What the controller needs around it.
    public struct Parts: Sendable {
        public var lane: Lane
        public var settings: LaneSettings
        public var journal: LaneJournal
        public var outbox: SQLiteOutbox
        /// Nil when the lane runs without central (tests).
        public var link: LaneLinkClient?
        public var boards: any LaneBoards
        public var lamps: (any LaneLamps)?
        public var voice: any VoicePath
        public var timers: any LaneTimerScheduler
        public var clock: any WallClock
        public var offline: OfflineDecider?
        public var logger: Logger

        public init(
            lane: Lane, settings: LaneSettings, journal: LaneJournal, outbox: SQLiteOutbox,
            link: LaneLinkClient?,
            boards: any LaneBoards, lamps: (any LaneLamps)?, voice: any VoicePath,
            timers: any LaneTimerScheduler,
            clock: any WallClock, offline: OfflineDecider?, logger: Logger
        ) {
            self.lane = lane
            self.settings = settings
            self.journal = journal
            self.outbox = outbox
            self.link = link
            self.boards = boards
            self.lamps = lamps
            self.voice = voice
            self.timers = timers
            self.clock = clock
            self.offline = offline
            self.logger = logger
        }
    }

    private struct Queued: Sendable {
        var input: LaneInput
        var received: ContinuousClock.Instant
        var done: CheckedContinuation<Void, any Error>?
        /// For a timer's fire: which start of the timer it belongs to.
        var timerGeneration: UInt64? = nil
    }

    private let parts: Parts
    private var machine: LaneStateMachine
    /// The machine as of the last input whose journal transaction finished:
    /// what `status` and ``board`` report. The commit suspends the actor
    /// (GRDB's async write), and in that gap `status` must not show a state
    /// the journal does not hold yet.
    private var committed: LaneStateMachine
    private var startActions: [LaneAction]
    private let queue: AsyncStream<Queued>
    private let enqueue: AsyncStream<Queued>.Continuation
    // The intercom is switched beside the main loop, in order: a voice
    // command may take up to its timeout, and vehicles must not wait for it.
    private let voiceJobs: AsyncStream<VoiceJob>
    private let voiceQueue: AsyncStream<VoiceJob>.Continuation

    private enum VoiceJob: Sendable {
        case start(callID: UInt64)
        case stop(callID: UInt64)
    }

    // What `status` reports, kept from the actions as they pass.
    private var lastShown: ShownDecision?
    private var faults: [String: String] = [:]
    private var drawnBoard: BoardState?
    private var arrivalStarted: ContinuousClock.Instant?
    private var arrivalToStop = LatencyRecorder()
    private var arrivalToDecision = LatencyRecorder()
    private var pressToDisplay = LatencyRecorder()
    private var passages = 0
    private var observers: [UInt64: AsyncStream<BoardState>.Continuation] = [:]
    private var nextObserver: UInt64 = 0
    // The machine knows timers by name only; a fire already queued when its
    // timer was cancelled or restarted must not reach it.
    private var timerGenerations: [LaneTimer: UInt64] = [:]
    private var lastTimerGeneration: UInt64 = 0
    // Set once a journal write fails; the lane is closed from then on.
    private var journalFault: JournalFault?

    /// A decision the boards show, for `status`.
    public struct ShownDecision: Sendable, Hashable, Codable {
        public var instruction: Instruction
        public var reason: Reason
        public var decisionID: UInt64?
        public var at: Date
    }

    /// Recovers the lane from its journal: after a crash, a vehicle that had
    /// no decision on the boards gets STOP and a new request (see
    /// ``LaneStateMachine/recovering(settings:from:now:)``).
    public init(parts: Parts) async throws {
        self.parts = parts
        let recovered = try await parts.journal.recover()
        let (machine, actions) = LaneStateMachine.recovering(
            settings: parts.settings, from: recovered, now: parts.clock.now())
        self.machine = machine
        self.committed = machine
        self.startActions = actions
        (queue, enqueue) = AsyncStream.makeStream(of: Queued.self)
        (voiceJobs, voiceQueue) = AsyncStream.makeStream(of: VoiceJob.self)
    }

    // MARK: Inputs

    /// Queues `input` and returns once the lane has handled it: journaled,
    /// sent, drawn.
    public nonisolated func submit(_ input: LaneInput) async throws {
        try await withCheckedThrowingContinuation { continuation in
            let result = enqueue.yield(Queued(input: input, received: .now, done: continuation))
            if case .terminated = result { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Queues `input` without waiting (GPIO edges, timers, link messages that
    /// must not block their source).
    public nonisolated func post(_ input: LaneInput) {
        enqueue.yield(Queued(input: input, received: .now, done: nil))
    }

    /// Queues a timer's fire and returns once it is handled (or dropped as
    /// stale), so that a simulated clock's `advance` sees its effects.
    private nonisolated func fire(_ timer: LaneTimer, generation: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let bridge = Queued(
                input: .timerFired(timer), received: .now, done: nil, timerGeneration: generation)
            Task { await self.enqueueWaiting(bridge, continuation) }
        }
    }

    private func enqueueWaiting(_ item: Queued, _ continuation: CheckedContinuation<Void, Never>) async {
        do {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                var item = item
                item.done = done
                if case .terminated = enqueue.yield(item) { done.resume(throwing: CancellationError()) }
            }
        } catch {}
        continuation.resume()
    }

    /// A message from central, handed over by the link client; returns once
    /// the lane has handled it, so that the link acknowledges only then.
    /// Bundle-cache chunks go to the journal's cache; a chunk that cannot be
    /// stored throws, which ends the session so that central sends it again.
    public nonisolated func received(_ message: LaneMessage) async throws {
        switch message {
        case .bundleCache(let chunk):
            let outcome = try await parts.journal.stageCacheChunk(
                generation: chunk.generation, index: Int(chunk.index), count: Int(chunk.count),
                bundles: chunk.bundles.map(OfflineBundle.init), watchList: chunk.watchList)
            parts.logger.debug(
                "bundle cache chunk",
                metadata: ["generation": "\(chunk.generation)", "outcome": "\(outcome)"])
            if case .installed(let generation) = outcome {
                parts.logger.info(
                    "bundle cache installed",
                    metadata: ["generation": "\(generation.generation)", "bundles": "\(generation.bundles)"])
            }
        case .bundleCacheDelta(let delta):
            try await apply(delta)
        case .timeSync(let sync):
            if let offset = sync.offset(replyReceivedAt: parts.clock.now()) {
                parts.logger.info("central's clock minus ours", metadata: ["seconds": "\(offset)"])
            }
        default:
            guard let input = LinkMessages.input(for: message) else {
                parts.logger.debug("link message ignored", metadata: ["message": "\(message.name)"])
                return
            }
            try await submit(input)
        }
    }

    /// Applies a numbered cache delta; on a gap, asks central for a full
    /// push through the outbox in the same transaction, once per version
    /// held (the journal remembers the request), so a run of deltas after
    /// one lost number costs one request.
    private nonisolated func apply(_ delta: BundleCacheDelta) async throws {
        let journal = parts.journal
        let outbox = parts.outbox
        let linked = parts.link != nil
        let now = parts.clock.now()
        let changes: [CacheDeltaChange] = delta.changes.map { change in
            switch change {
            case .put(let bundle): .put(OfflineBundle(bundle))
            case .drop(let ubr): .drop(ubr)
            case .watchList(let targets): .watchList(targets)
            }
        }
        let (outcome, resync) = try await journal.writer.write {
            db -> (CacheDeltaOutcome, (UInt64, [UInt8])?) in
            let outcome = try journal.applyCacheDelta(
                generation: delta.generation, sequence: delta.sequence, changes: changes, in: db)
            guard case .gap(let have) = outcome, linked,
                try journal.noteResyncAsked(have: have, at: now, in: db)
            else { return (outcome, nil) }
            let message = LaneMessage.cacheResync(have: have)
            let payload = try LaneLinkClient.payload(for: message)
            return (outcome, (try outbox.enqueue(in: db, topic: message.name, payload: payload), payload))
        }
        switch outcome {
        case .applied(let version, let refused):
            parts.logger.debug(
                "bundle cache delta applied",
                metadata: ["version": "\(version)", "changes": "\(delta.changes.count)"])
            if !refused.isEmpty {
                parts.logger.warning(
                    "bundle cache full: bundles left out; offline, their vehicles go to inspection",
                    metadata: [
                        "limit": "\(LaneJournal.cacheBundleLimit)", "ubrs": "\(refused.map(\.value))",
                    ])
            }
        case .stale(let have):
            parts.logger.debug(
                "bundle cache delta already applied",
                metadata: ["delta": "\(delta.version)", "have": "\(have)"])
        case .gap(let have):
            parts.logger.warning(
                "bundle cache delta does not follow the cache; asking central for a full push",
                metadata: [
                    "delta": "\(delta.version)", "have": "\(have.map(\.description) ?? "none")",
                    "asked": "\(resync != nil)",
                ])
        }
        if let (id, payload) = resync { parts.link?.offer(messageID: id, payload: payload) }
    }

    /// Applies reloaded settings (SIGHUP): the timings apply from the next
    /// timer started, the default language from the next vehicle.
    public func reload(settings: LaneSettings) {
        machine.settings = settings
        committed.settings = settings
    }

    /// Handles queued inputs until cancelled: the lane's main loop.
    /// `heartbeat` runs after every input and at least once a second (the
    /// systemd watchdog is fed from here, so a stuck loop stops feeding it).
    public func run(heartbeat: @escaping @Sendable () -> Void = {}) async throws {
        let voice = Task { await self.switchVoice() }
        defer { voice.cancel() }
        let first = startActions
        startActions = []
        await execute(first, received: .now, input: nil)
        let ticker = Task { [enqueue] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                heartbeat()
            }
            _ = enqueue
        }
        defer {
            ticker.cancel()
            enqueue.finish()
            for observer in observers.values { observer.finish() }
        }
        for await item in queue {
            if Task.isCancelled { item.done?.resume(throwing: CancellationError()); break }
            if journalFault != nil {
                refuseWithoutJournal(item.input)
                item.done?.resume(throwing: LaneControllerError.journalFailed)
                continue
            }
            if case .timerFired(let timer) = item.input, let generation = item.timerGeneration {
                guard timerGenerations[timer] == generation else {
                    item.done?.resume()
                    continue
                }
                timerGenerations[timer] = nil
            }
            let actions = machine.handle(item.input, now: parts.clock.now())
            await execute(actions, received: item.received, input: item.input)
            item.done?.resume()
            heartbeat()
        }
    }

    /// Stops ``run()`` after the inputs queued so far.
    public nonisolated func finish() { enqueue.finish() }

    // MARK: Actions

    private func execute(_ actions: [LaneAction], received: ContinuousClock.Instant, input: LaneInput?) async
    {
        let now = parts.clock.now()
        switch input {
        case .vehicleArrived: arrivalStarted = received
        case .fault(let code, let text): faults[code] = text
        case .faultCleared(let code): faults[code] = nil
        default: break
        }
        do {
            try await commit(actions, now: now)
            committed = machine
        } catch is CancellationError {
            // laned is stopping: GRDB gave up the write before it ran. The
            // input is neither journaled nor carried out, as after a kill,
            // and the journal itself is sound, so this is no journal fault.
            committed = machine
            parts.logger.notice("stopping; the last input was not journaled and is not carried out")
            return
        } catch {
            committed = machine
            // The journal is the lane's memory: without it nothing else may happen.
            parts.logger.critical(
                "cannot write the journal; input not carried out", metadata: ["error": "\(error)"])
            await journalFailed(error, now: now)
            return
        }
        for action in actions {
            switch action {
            case .journal, .report:
                break  // committed above
            case .requestDecision(let request):
                if request.offline { await decideOffline(request) }
            case .show(let board):
                await draw(board, received: received, input: input)
            case .startTimer(let timer, let delay):
                lastTimerGeneration += 1
                let generation = lastTimerGeneration
                timerGenerations[timer] = generation
                parts.timers.schedule(timer, after: delay) { [weak self] in
                    await self?.fire(timer, generation: generation)
                }
            case .cancelTimer(let timer):
                timerGenerations[timer] = nil
                parts.timers.cancel(timer)
            case .setLamp(let button, let on):
                do { try await parts.lamps?.setLamp(button, on: on) } catch {
                    parts.logger.warning(
                        "cannot set a lamp", metadata: ["button": "\(button)", "error": "\(error)"])
                }
            case .startVoice(let callID):
                voiceQueue.yield(.start(callID: callID))
            case .stopVoice(let callID):
                voiceQueue.yield(.stop(callID: callID))
            }
        }
        track(actions, now: now)
    }

    /// Starts and stops the voice path as the machine asks, one at a time.
    /// A start or stop that fails is a `voice_failed` fault (a stop that
    /// fails may leave the lane's microphone open); the next that works
    /// clears it.
    private nonisolated func switchVoice() async {
        var failing = false
        for await job in voiceJobs {
            do {
                switch job {
                case .start(let callID): try await parts.voice.start(callID: callID)
                case .stop(let callID): try await parts.voice.stop(callID: callID)
                }
                if failing {
                    failing = false
                    post(.faultCleared(code: LaneFaultCode.voiceFailed.name))
                }
            } catch is CancellationError {
                return
            } catch {
                parts.logger.error("the intercom's voice path failed", metadata: ["error": "\(error)"])
                failing = true
                post(.fault(code: LaneFaultCode.voiceFailed.name, text: "\(error)"))
            }
        }
    }

    /// Journal entries and link messages of one input, in one transaction.
    /// It runs (and fsyncs) on the journal's writer queue through GRDB's
    /// async API: the actor waits for it without holding a cooperative
    /// thread, and ``run()`` handles the next input only after it committed.
    private func commit(_ actions: [LaneAction], now: Date) async throws {
        var entries: [JournalEntry] = []
        var messages: [LaneMessage] = []
        var used: [UBR] = []
        for action in actions {
            if case .journal(let entry) = action { entries.append(entry) }
            if case .report(.vehicleLeft(_, let ubr?, _)) = action { used.append(ubr) }
            if parts.link != nil, let message = LinkMessages.outbound(action, lane: parts.lane.id, now: now) {
                messages.append(message)
            }
        }
        guard !entries.isEmpty || !messages.isEmpty || !used.isEmpty else { return }
        let outbox = parts.outbox
        let journal = parts.journal
        let queued: [(UInt64, [UInt8])] = try await journal.writer.write { [entries, messages, used] db in
            try journal.append(entries, at: now, in: db)
            // A bundle that crossed is spent here too: offline, the cache must
            // not clear the same UBR twice before central's next push.
            for ubr in used { try journal.markCachedBundleUsed(ubr, at: now, in: db) }
            return try messages.map { message in
                let payload = try LaneLinkClient.payload(for: message)
                return (try outbox.enqueue(in: db, topic: message.name, payload: payload), payload)
            }
        }
        for (id, payload) in queued { parts.link?.offer(messageID: id, payload: payload) }
    }

    private func draw(_ board: BoardState, received: ContinuousClock.Instant, input: LaneInput?) async {
        do {
            try await parts.boards.show(board)
            drawnBoard = board
            for observer in observers.values { observer.yield(board) }
            if faults.removeValue(forKey: LaneFaultCode.displayFailed.name) != nil {
                post(.faultCleared(code: LaneFaultCode.displayFailed.name))
            }
        } catch {
            parts.logger.error("cannot draw the boards", metadata: ["error": "\(error)"])
            if faults[LaneFaultCode.displayFailed.name] == nil {
                faults[LaneFaultCode.displayFailed.name] = "\(error)"
                post(.fault(code: LaneFaultCode.displayFailed.name, text: "\(error)"))
            }
            return
        }
        let shownAt = ContinuousClock.now
        if case .buttonPressed = input { pressToDisplay.record(shownAt - received) }
        if let started = arrivalStarted {
            switch board.phase {
            case .stop:
                if case .vehicleArrived = input { arrivalToStop.record(shownAt - started) }
            case .decided, .systemUnavailable:
                arrivalToDecision.record(shownAt - started)
                arrivalStarted = nil
            case .welcome, .closed:
                arrivalStarted = nil
            }
        }
    }

    private func decideOffline(_ request: LaneDecisionRequest) async {
        guard let decider = parts.offline else {
            parts.logger.error("offline mode without a bundle cache; the decision will time out (rule 4)")
            return
        }
        do {
            let (decision, version) = try await decider.decide(request)
            post(.offlineDecided(requestID: request.requestID, decision: decision, cacheVersion: version))
        } catch {
            parts.logger.error("cannot read the bundle cache", metadata: ["error": "\(error)"])
        }
    }

    private func track(_ actions: [LaneAction], now: Date) {
        for action in actions {
            guard case .journal(let entry) = action else { continue }
            switch entry.kind {
            case .instructionShown, .override:
                if let instruction = entry.instruction, let reason = entry.reason {
                    lastShown = ShownDecision(
                        instruction: instruction, reason: reason, decisionID: entry.decisionID, at: now)
                }
            case .vehicleLeft:
                passages += 1
            default:
                break
            }
        }
    }

    // MARK: A journal that cannot be written

    /// The lane without its memory: closed on the boards, the fault in
    /// `status`, and central told through the live session only, since the
    /// link's outbox lives in the same file.
    private struct JournalFault {
        var board: BoardState
        /// The fault report as the session sends it, offered again on every
        /// new session until laned restarts.
        var report: (id: UInt64, payload: [UInt8])?
    }

    /// Closes the lane for good (until a restart): nothing may happen that
    /// the journal does not remember.
    private func journalFailed(_ error: any Error, now: Date) async {
        guard journalFault == nil else { return }
        let text = "cannot write the journal \(parts.journal.path): \(error)"
        faults[LaneFaultCode.journalFailed.name] = text
        var board = machine.board
        board.phase = .closed
        board.vrn = nil
        board.unladenAcknowledged = false
        board.officerMessage = nil
        var fault = JournalFault(board: board)
        let report = LaneAction.report(.fault(code: LaneFaultCode.journalFailed.name, text: text))
        if let message = LinkMessages.outbound(report, lane: parts.lane.id, now: now),
            let payload = try? LaneLinkClient.payload(for: message)
        {
            fault.report = (Self.unjournaledMessageID(now), payload)
        }
        journalFault = fault
        await draw(board, received: .now, input: nil)
        offerJournalFault()
    }

    /// While the journal is failing no input is carried out; a session that
    /// comes up gets the fault report again.
    private func refuseWithoutJournal(_ input: LaneInput) {
        parts.logger.error(
            "the lane is closed: its journal cannot be written", metadata: ["input": "\(input)"])
        if case .linkChanged(up: true) = input { offerJournalFault() }
    }

    private func offerJournalFault() {
        guard let report = journalFault?.report else { return }
        parts.link?.offer(messageID: report.id, payload: report.payload)
    }

    /// Message ids from the outbox count up from 1; a report that has no
    /// outbox row takes one from a range the outbox never reaches (2^62 and
    /// up), distinct per time so central's applied log takes each report.
    static func unjournaledMessageID(_ now: Date) -> UInt64 {
        let micros = UInt64(max(0, now.timeIntervalSince1970 * 1_000_000))
        return (1 << 62) | (micros & ((1 << 62) - 1))
    }

    // MARK: Status

    /// The outbox topic of offline crossings: the message's name, which is
    /// what every outbox row is filed under.
    public static let offlineCrossingTopic = "offline crossing"

    /// The lane now, as `status` on the control socket reports it.
    public func status() async -> LaneStatus {
        // Counted first, off the actor's thread (GRDB's reader), so the rest
        // is read in one go after the suspensions.
        let outboxPending = (try? await parts.outbox.countPending()) ?? -1
        let offlineUnreconciled =
            (try? await parts.outbox.countPending(topic: Self.offlineCrossingTopic)) ?? -1
        let board = journalFault?.board ?? committed.board
        return LaneStatus(
            lane: parts.lane, board: board, drawn: drawnBoard == board, linkUp: parts.link?.isConnected,
            pendingRequestID: committed.pendingRequestID, currentRequestID: committed.currentRequestID,
            lastDecision: lastShown, faults: faults.keys.sorted(),
            outboxPending: outboxPending, offlineUnreconciled: offlineUnreconciled, passages: passages,
            latency: LaneStatus.Latency(
                arrivalToStop: arrivalToStop.figures, arrivalToDecision: arrivalToDecision.figures,
                pressToDisplay: pressToDisplay.figures),
            now: parts.clock.now())
    }

    /// Every board state from now on, as soon as it is on the glass (the
    /// simulator's screen log and traffic timings). Keeps the newest 256 if
    /// the reader falls behind.
    public func drawnBoards() -> AsyncStream<BoardState> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: BoardState.self, bufferingPolicy: .bufferingNewest(256))
        nextObserver += 1
        let id = nextObserver
        observers[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.removeObserver(id) } }
        return stream
    }

    private func removeObserver(_ id: UInt64) { observers[id] = nil }

    /// The current board state (what is, or is being, drawn).
    public var board: BoardState { committed.board }

    /// The board's current picture as pixels (the simulator's window).
    public func picture(_ board: BoardKind) async throws -> RGBAImage? {
        try await parts.boards.picture(board)
    }

    /// The boards' current picture as PNG.
    public func screenshot(_ board: BoardKind) async throws -> [UInt8] {
        try await parts.boards.screenshot(board)
    }
}
