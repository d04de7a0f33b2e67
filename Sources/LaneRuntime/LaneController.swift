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
        /// The offset under `clock` that the control socket's `clock` command
        /// steps; nil when the lane's clock cannot be stepped.
        public var clockOffset: ClockOffset?

        public init(
            lane: Lane, settings: LaneSettings, journal: LaneJournal, outbox: SQLiteOutbox,
            link: LaneLinkClient?,
            boards: any LaneBoards, lamps: (any LaneLamps)?, voice: any VoicePath,
            timers: any LaneTimerScheduler,
            clock: any WallClock, offline: OfflineDecider?, logger: Logger, clockOffset: ClockOffset? = nil
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
            self.clockOffset = clockOffset
        }
    }

    let parts: Parts
    var machine: LaneStateMachine
    /// The machine as of the last input whose journal transaction finished:
    /// what `status` and ``board`` report. The commit suspends the actor
    /// (GRDB's async write), and in that gap `status` must not show a state
    /// the journal does not hold yet.
    var committed: LaneStateMachine
    private var startActions: [LaneAction]
    /// The input stream, made before the controller (``LaneInputs``).
    public nonisolated let inputs: LaneInputs
    // The intercom is switched beside the main loop, in order: a voice
    // command may take up to its timeout, and vehicles must not wait for it.
    private let voiceJobs: AsyncStream<VoiceJob>
    private let voiceQueue: AsyncStream<VoiceJob>.Continuation

    private enum VoiceJob: Sendable {
        case start(callID: UInt64)
        case stop(callID: UInt64)
    }

    // What `status` reports, kept from the actions as they pass.
    // Faults live in the machine (`activeFaults`); only the journal's own
    // fault, which the machine cannot journal, is kept here (`journalFault`).
    var lastShown: ShownDecision?
    var drawnBoard: BoardState?
    private var arrivalStarted: ContinuousClock.Instant?
    var arrivalToStop = LatencyRecorder()
    var arrivalToDecision = LatencyRecorder()
    var pressToDisplay = LatencyRecorder()
    var passages = 0
    var observers: [UInt64: AsyncStream<BoardState>.Continuation] = [:]
    var nextObserver: UInt64 = 0
    // The machine knows timers by name only; a fire already queued when its
    // timer was cancelled or restarted must not reach it.
    var timerGenerations: [LaneTimer: UInt64] = [:]
    private var lastTimerGeneration: UInt64 = 0
    // Set once a journal write fails; the lane is closed from then on.
    var journalFault: JournalFault?

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
    /// - Parameter inputs: the stream the lane's parts feed; made beforehand
    ///   when a part built before the controller posts to it.
    public init(parts: Parts, inputs: LaneInputs = LaneInputs()) async throws {
        self.parts = parts
        self.inputs = inputs
        let recovered = try await parts.journal.recover()
        let (machine, actions) = LaneStateMachine.recovering(
            settings: parts.settings, from: recovered, now: parts.clock.now())
        self.machine = machine
        self.committed = machine
        self.startActions = actions
        (voiceJobs, voiceQueue) = AsyncStream.makeStream(of: VoiceJob.self)
    }

    // MARK: Inputs

    /// Queues `input` and returns once the lane has handled it: journaled,
    /// sent, drawn.
    public nonisolated func submit(_ input: LaneInput) async throws { try await inputs.submit(input) }

    /// Queues `input` without waiting (GPIO edges, link messages that must
    /// not block their source).
    public nonisolated func post(_ input: LaneInput) { inputs.post(input) }

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
        var followUps = await execute(first, received: .now, input: nil)
        await handle(followUps)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                heartbeat()
            }
        }
        defer {
            ticker.cancel()
            inputs.finish()
            for observer in observers.values { observer.finish() }
        }
        for await item in inputs.stream {
            // Cancelled: stop at once; the item's waiter (and those of any
            // still queued, as the stream lets go of them) gets CancellationError.
            if Task.isCancelled { item.reply?.resume(throwing: CancellationError()); break }
            if case .timerFired(.journalProbe) = item.input {
                await probeJournal()
                item.reply?.resume()
                continue
            }
            if journalFault != nil {
                refuseWithoutJournal(item.input)
                item.reply?.resume(throwing: LaneControllerError.journalFailed)
                continue
            }
            if case .timerFired(let timer) = item.input, let generation = item.timerGeneration {
                guard timerGenerations[timer] == generation else {
                    item.reply?.resume()
                    continue
                }
                timerGenerations[timer] = nil
            }
            var input = item.input
            if case .clockStepped(_, let to) = input {
                // Stepped here, between two inputs, so that every entry
                // before `clock_stepped` has the old time and every one
                // from it on the new.
                guard let offset = parts.clockOffset else {
                    item.reply?.resume(throwing: LaneControllerError.clockFixed)
                    continue
                }
                input = .clockStepped(fromSeconds: offset.set(to), toSeconds: to)
            }
            let actions = machine.handle(input, now: parts.clock.now())
            followUps = await execute(actions, received: item.received, input: input)
            // An input the journal did not take was not carried out: its
            // sender (an `arrive` on the control socket) must not hear "done".
            if journalFault != nil {
                item.reply?.resume(throwing: LaneControllerError.journalFailed)
            } else {
                item.reply?.resume()
            }
            await handle(followUps)
            heartbeat()
        }
    }

    /// Inputs that carrying out an input raised (a board that would not
    /// draw, or draws again): handled next, before any queued input, so the
    /// machine's fault list is current when the next input looks at it.
    func handle(_ followUps: [LaneInput]) async {
        var pending = followUps
        while !pending.isEmpty, !Task.isCancelled {
            let input = pending.removeFirst()
            if journalFault != nil {
                refuseWithoutJournal(input)
                continue
            }
            let actions = machine.handle(input, now: parts.clock.now())
            pending += await execute(actions, received: .now, input: input)
        }
    }

    /// The offset under the lane's clock (``Parts/clockOffset``).
    public nonisolated var clockOffset: ClockOffset? { parts.clockOffset }

    /// The lane's business clock now.
    public nonisolated func clockNow() -> Date { parts.clock.now() }

    /// Stops ``run()`` after the inputs queued so far.
    public nonisolated func finish() { inputs.finish() }

    // MARK: Actions

    /// Carries out one input's actions; returns the inputs they raised
    /// (display faults and their end).
    func execute(
        _ actions: [LaneAction], received: ContinuousClock.Instant, input: LaneInput?,
        alreadyCommitted: Bool = false
    ) async -> [LaneInput] {
        let now = parts.clock.now()
        if case .vehicleArrived = input { arrivalStarted = received }
        do {
            if !alreadyCommitted { try await commit(actions, now: now) }
            committed = machine
        } catch is CancellationError {
            // laned is stopping: GRDB gave up the write before it ran. The
            // input is neither journaled nor carried out, as after a kill,
            // and the journal itself is sound, so this is no journal fault.
            committed = machine
            parts.logger.notice("stopping; the last input was not journaled and is not carried out")
            return []
        } catch {
            committed = machine
            // The journal is the lane's memory: without it nothing else may happen.
            parts.logger.critical(
                "cannot write the journal; input not carried out", metadata: ["error": "\(error)"])
            await journalFailed(error, now: now)
            return []
        }
        var drawn: Result<Void, any Error>?
        for action in actions {
            switch action {
            case .journal, .report:
                break  // committed above
            case .requestDecision(let request):
                if request.offline { await decideOffline(request) }
            case .show(let board):
                drawn = await draw(board, received: received, input: input)
            case .startTimer(let timer, let delay):
                lastTimerGeneration += 1
                let generation = lastTimerGeneration
                timerGenerations[timer] = generation
                // The firing is one more input on the stream; the generation
                // lets ``run()`` drop it if the timer was cancelled or started
                // again meanwhile.
                parts.timers.schedule(timer, after: delay) { [inputs, logger = parts.logger] in
                    if await !inputs.fire(timer, generation: generation) {
                        logger.debug("a timer fired after the lane stopped", metadata: ["timer": "\(timer)"])
                    }
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
        return drawn.map(displayFaultChange) ?? []
    }

    /// The machine owns the lane's faults: a board that fails raises
    /// `display_failed` once, one that draws again clears it.
    private func displayFaultChange(_ drawn: Result<Void, any Error>) -> [LaneInput] {
        let code = LaneFaultCode.displayFailed.name
        let active = machine.activeFaults[code] != nil
        switch drawn {
        case .success: return active ? [.faultCleared(code: code)] : []
        case .failure(let error): return active ? [] : [.fault(code: code, text: "\(error)")]
        }
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
    func commit(_ actions: [LaneAction], now: Date) async throws {
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

    @discardableResult
    func draw(_ board: BoardState, received: ContinuousClock.Instant, input: LaneInput?) async
        -> Result<Void, any Error>
    {
        do {
            try await parts.boards.show(board)
            drawnBoard = board
            for observer in observers.values { observer.yield(board) }
        } catch {
            parts.logger.error("cannot draw the boards", metadata: ["error": "\(error)"])
            return .failure(error)
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
        return .success(())
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
}
