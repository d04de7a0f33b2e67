import BoardLayout
import Displays
import Foundation
import GRDB
import LaneCore
import LaneLink
import RoadCargo

extension LaneController {
    // MARK: A journal that cannot be written

    /// The lane without its memory: closed on the boards, the fault in
    /// `status`, and central told through the live session only, since the
    /// link's outbox lives in the same file.
    struct JournalFault {
        var board: BoardState
        /// The fault report as the session sends it, offered again on every
        /// new session until the journal is written again.
        var report: (id: UInt64, payload: [UInt8])?
        /// SQLITE_FULL: the file system (or the file's size limit) has no
        /// room; any other error is `failed`.
        var full: Bool
        var since: Date
        var text: String
    }

    /// How often a lane whose journal cannot be written tries it again, on
    /// the lane's timers (the monotonic clock; the simulator's in tests).
    static let journalProbeInterval: Duration = .seconds(2)

    /// Closes the lane until the journal takes a write again: nothing may
    /// happen that the journal does not remember. The journal is tried again
    /// every ``journalProbeInterval`` (``probeJournal()``).
    func journalFailed(_ error: any Error, now: Date) async {
        guard journalFault == nil else { return }
        let full = (error as? DatabaseError)?.resultCode == .SQLITE_FULL
        let text = "cannot write the journal \(parts.journal.path): \(error)"
        // CLOSED, not rule 4's SYSTEM_UNAVAILABLE: rule 4 answers one vehicle
        // and the lane goes on serving the next; a lane that cannot journal
        // can serve none, so drivers must take another lane. The fault report
        // calls officers to any vehicle already in it (docs/lane-journal.md).
        var board = machine.board
        board.phase = .closed
        board.vrn = nil
        board.unladenAcknowledged = false
        board.officerMessage = nil
        var fault = JournalFault(board: board, full: full, since: now, text: text)
        let report = LaneAction.report(.fault(code: LaneFaultCode.journalFailed.name, text: text))
        if let message = LinkMessages.outbound(report, lane: parts.lane.id, now: now),
            let payload = try? LaneLinkClient.payload(for: message)
        {
            fault.report = (Self.unjournaledMessageID(now), payload)
        }
        journalFault = fault
        parts.logger.critical(
            full
                ? "the journal's disk is full: the lane is closed until it has room, tried every \(Self.journalProbeInterval)"
                : "the journal cannot be written: the lane is closed until it can, tried every \(Self.journalProbeInterval)",
            metadata: ["journal": "\(parts.journal.path)", "error": "\(error)"])
        await draw(board, received: .now, input: nil)
        offerJournalFault()
        scheduleJournalProbe()
    }

    private func scheduleJournalProbe() {
        parts.timers.schedule(.journalProbe, after: Self.journalProbeInterval) { [inputs] in
            _ = await inputs.fire(.journalProbe, generation: 0)
        }
    }

    /// Tries the journal again: the lane restarts from it as laned would
    /// after a restart (``LaneStateMachine/recovering(settings:from:now:)``),
    /// since every input of the outage was refused, timers included, and
    /// only the journal says where the lane stands. The outage is journaled
    /// with the recovery (a `fault` and a `fault_cleared` entry), in one
    /// transaction; if that transaction fails too, the lane stays closed and
    /// tries again later.
    func probeJournal() async {
        guard let fault = journalFault else { return }
        let now = parts.clock.now()
        var lane: LaneStateMachine
        var actions: [LaneAction]
        do {
            let recovered = try await parts.journal.recover()
            (lane, actions) = LaneStateMachine.recovering(
                settings: machine.settings, from: recovered, now: now)
            let code = LaneFaultCode.journalFailed.name
            let outage =
                "\(fault.full ? "disk full" : "write failed") since \(HongKongTime.iso8601(fault.since)): \(fault.text)"
            actions += lane.handle(.fault(code: code, text: outage), now: now)
            actions += lane.handle(.faultCleared(code: code), now: now)
            try await commit(actions, now: now)
        } catch {
            parts.logger.debug("the journal still cannot be written", metadata: ["error": "\(error)"])
            scheduleJournalProbe()
            return
        }
        parts.logger.notice(
            "the journal can be written again: the lane resumes from it",
            metadata: [
                "journal": "\(parts.journal.path)", "closed_since": "\(HongKongTime.iso8601(fault.since))",
            ])
        // Timers of the lane before the outage must not reach the new one.
        for timer in LaneTimer.allCases where timer != .journalProbe { parts.timers.cancel(timer) }
        timerGenerations = [:]
        journalFault = nil
        machine = lane
        let followUps = await execute(actions, received: .now, input: nil, alreadyCommitted: true)
        await handle(followUps)
    }

    /// While the journal is failing no input is carried out; a session that
    /// comes up gets the fault report again.
    func refuseWithoutJournal(_ input: LaneInput) {
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
        var faults = Array(committed.activeFaults.keys)
        let journalHealth = journalFault.map { $0.full ? "full" : "failed" } ?? "ok"
        if journalFault != nil { faults.append(LaneFaultCode.journalFailed.name) }
        faults.sort()
        return LaneStatus(
            lane: parts.lane, board: board, drawn: drawnBoard == board, linkUp: parts.link?.isConnected,
            central: parts.link?.linkedCentral,
            pendingRequestID: committed.pendingRequestID, currentRequestID: committed.currentRequestID,
            lastDecision: lastShown, faults: faults,
            outboxPending: outboxPending, offlineUnreconciled: offlineUnreconciled, passages: passages,
            latency: LaneStatus.Latency(
                arrivalToStop: arrivalToStop.figures, arrivalToDecision: arrivalToDecision.figures,
                pressToDisplay: pressToDisplay.figures),
            now: parts.clock.now(), journal: journalHealth)
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

    func removeObserver(_ id: UInt64) { observers[id] = nil }

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
