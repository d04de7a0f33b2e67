import Central
import Foundation
import GRDB
import LaneControl
import LaneRuntime
import TestKit
import Testing

/// A journal laned cannot write: at start laned refuses to run, naming the
/// file; while running the lane closes, says why, and tells central, whose
/// officers' console shows the fault on the lane's card.
@Suite struct JournalFaultTests {
    /// The journal turns read-only under a running lane. The hook is SQLite's
    /// `PRAGMA query_only` on the journal's one writer connection: every
    /// later write fails with SQLITE_READONLY, the error a read-only file or
    /// a read-only remount gives, while reads (status, the journal command,
    /// the outbox count) still work, as they do on a read-only filesystem.
    /// (chmod does not stop root, and tests cannot remount.)
    @Test func aJournalThatTurnsReadOnlyClosesTheLaneAndCentralsConsoleShowsTheFault() async throws {
        let rig = try await LaneRig()
        let lane = try await rig.startLane()
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.open(officer: "chan"))
        try await lane.waitFor("the lane open") { $0.phase == "welcome" }

        try await lane.daemon.journal.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA query_only = ON")
        }
        // The arrival's own write fails, or (on a busy machine, when a link
        // write such as the outbox's acknowledgement came first) the lane has
        // already closed and refuses it: either way it is not carried out.
        _ = try? await lane.call(.arrive(vrn: "AB1234"))
        let closed = try await lane.waitFor("the lane closed by the fault") {
            $0.phase == "closed" && $0.drawn
        }
        #expect(closed.xdb == "CLOSED")
        #expect(!closed.open)
        #expect(closed.faults.contains("journal_failed"), "\(closed)")
        #expect(closed.vrn == nil, "the truck's arrival was not carried out")

        // Nothing more is carried out, and the refusal says why.
        let error = try #require(try await lane.refusal(.arrive(vrn: "CD5678")))
        #expect(error.message.contains("journal"), "\(error)")
        #expect(try await lane.status().phase == "closed")

        // Central got the fault without the outbox, and the lane's card shows it.
        var view: LaneView?
        _ = try await eventually(within: .seconds(30), every: .milliseconds(50)) {
            let events = try await rig.store.laneEvents(lane: LaneRig.laneID, limit: 200)
            let candidate = LaneView.derive(
                lane: LaneRig.lane, connected: true, events: events,
                crossings: try await rig.store.crossings(lane: LaneRig.laneID, limit: 1),
                actions: try await rig.store.officerActions(lane: LaneRig.laneID, limit: 50), call: nil)
            guard candidate.faults.contains(where: { $0.hasPrefix("journal_failed:") }) else { return false }
            view = candidate
            return true
        }
        let card = try #require(view, "central's lane view never showed the journal fault")
        let fault = try #require(card.faults.first { $0.hasPrefix("journal_failed:") })
        #expect(fault.contains(rig.directory + "/journal.sqlite"), "the fault names the file: \(fault)")
        #expect(fault.contains("readonly"), "the fault says why: \(fault)")
        await lane.stop()
    }

    @Test func aJournalThatCannotBeOpenedStopsLanedNamingThePath() async throws {
        let rig = try await LaneRig(centralUp: false)
        // A file where the journal's directory should be: no user, root
        // included, can create the directory, let alone the journal.
        let blocker = rig.directory + "/not-a-directory"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        var config = try rig.configuration()
        config.journal.path = blocker + "/journal.sqlite"
        do {
            _ = try await LaneDaemon(
                configuration: config,
                environment: .init(clock: rig.clock, timers: rig.timers, linkKey: rig.key))
            Issue.record("laned started without a journal")
        } catch {
            #expect(error.part == "journal")
            #expect(!error.isConfiguration, "laned exits 1, not 78: the config is right, the ground is not")
            #expect("\(error)".contains("cannot open the journal \(blocker)/journal.sqlite"), "\(error)")
        }
    }
}
