import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import TestKit
import Testing

/// Random inputs in random orders, fed as a shell would (timers mostly fire
/// while running, sometimes late), against what must hold whatever happens.
@Suite("Random input sequences")
struct PropertyTests {
    static let plates = ["AB1234", "CD5678", "FU1"].map(plate)

    /// The shell's view: what it was told to run and draw.
    struct Shell {
        var drawn: BoardState
        var timers: Set<LaneTimer> = []
        var voice = false
        var requests: [UInt64] = []
        var calls: [UInt64] = []
        /// Every decision fed, by request id, and every release override.
        var fed: [UInt64: [Decision]] = [:]
        var released: Set<UInt64> = []
    }

    @Test(
        "CLEARED only from a CLEARED answer or a release for the current request; ids strictly increase; every input journaled; boards drawn only on change",
        arguments: Array(UInt64(1)...60))
    func randomSequence(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var lane = LaneStateMachine(settings: testSettings, open: Bool.random(using: &rng))
        var shell = Shell(drawn: lane.board)
        var now = t0
        for n in 0..<500 {
            now = now.addingTimeInterval(
                Bool.random(using: &rng) ? 0.05 : Double.random(in: 0...25, using: &rng))
            let input = randomInput(&rng, lane: lane, shell: shell)
            switch input {
            case .decisionReceived(let id, _, let d): shell.fed[id, default: []].append(d)
            case .override(let id, .cleared, .officerRelease, _, _): shell.released.insert(id)
            case .timerFired(let t): shell.timers.remove(t)
            default: break
            }
            let actions = lane.handle(input, now: now)
            let at = "seed \(seed), step \(n), input \(input)"
            guard actions.contains(where: { if case .journal = $0 { true } else { false } }) else {
                Issue.record("\(at): nothing journaled")
                return
            }
            for action in actions {
                switch action {
                case .requestDecision(let r):
                    guard r.requestID > (shell.requests.last ?? 0) else {
                        Issue.record("\(at): request id \(r.requestID) after \(shell.requests)")
                        return
                    }
                    shell.requests.append(r.requestID)
                case .show(let board):
                    guard board != shell.drawn else {
                        Issue.record("\(at): the same board drawn twice")
                        return
                    }
                    shell.drawn = board
                    if case .decided(.cleared, let reason, _) = board.phase {
                        guard let last = lane.lastDecision, last.requestID == lane.currentRequestID,
                            last.vrn == board.vrn
                        else {
                            Issue.record(
                                "\(at): CLEARED shown for a request that is not the current vehicle's")
                            return
                        }
                        let produced =
                            last.officer != nil
                            ? reason == .officerRelease && shell.released.contains(last.requestID)
                            : (shell.fed[last.requestID] ?? []).contains(last.decision)
                                && last.decision.instruction == .cleared
                        guard produced else {
                            Issue.record("\(at): CLEARED shown that no answer or release produced")
                            return
                        }
                    }
                case .startTimer(let t, _): shell.timers.insert(t)
                case .cancelTimer(let t):
                    guard shell.timers.remove(t) != nil else {
                        Issue.record("\(at): cancelled \(t), which was not running")
                        return
                    }
                case .startVoice:
                    guard !shell.voice else {
                        Issue.record("\(at): voice started twice")
                        return
                    }
                    shell.voice = true
                case .stopVoice:
                    guard shell.voice else {
                        Issue.record("\(at): voice stopped while off")
                        return
                    }
                    shell.voice = false
                case .report(.helpRing(let id)): shell.calls.append(id)
                case .journal, .report, .setLamp: break
                }
            }
            guard shell.drawn == lane.board else {
                Issue.record("\(at): the boards show \(shell.drawn), the lane is in \(lane.board)")
                return
            }
        }
        // The sequences must reach the interesting states, or the property says little.
        #expect(shell.requests.count > 10, "seed \(seed)")
        #expect(!shell.fed.isEmpty, "seed \(seed)")
    }

    @Test("across 60 seeds, CLEARED is shown from answers and from releases alike")
    func coverage() {
        var fromAnswers = 0
        var fromReleases = 0
        for seed in UInt64(1)...60 {
            var rng = SeededGenerator(seed: seed)
            var lane = LaneStateMachine(settings: testSettings, open: Bool.random(using: &rng))
            var now = t0
            for _ in 0..<500 {
                now = now.addingTimeInterval(
                    Bool.random(using: &rng) ? 0.05 : Double.random(in: 0...25, using: &rng))
                let shell = Shell(drawn: lane.board)
                let input = randomInput(&rng, lane: lane, shell: shell)
                for case .show(let b) in lane.handle(input, now: now) {
                    if case .decided(.cleared, _, _) = b.phase {
                        if lane.lastDecision?.officer != nil { fromReleases += 1 } else { fromAnswers += 1 }
                    }
                }
            }
        }
        #expect(fromAnswers > 10)
        #expect(fromReleases > 2)
    }

    func randomInput(_ rng: inout SeededGenerator, lane: LaneStateMachine, shell: Shell) -> LaneInput {
        func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
        func requestID() -> UInt64 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6: lane.currentRequestID ?? shell.requests.last ?? 1
            case 6..<9: shell.requests.isEmpty ? 1 : pick(shell.requests)
            default: UInt64.random(in: 1...UInt64.max / 4, using: &rng)
            }
        }
        func callID() -> UInt64 {
            Int.random(in: 0..<4, using: &rng) == 0
                ? UInt64.random(in: 1...100, using: &rng) : lane.helpCallID ?? 3
        }
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<12: return .vehicleArrived(pick(Self.plates), source: pick([.central, .reader, .simulated]))
        case 12..<18: return .vehicleLeft
        case 18..<26: return .buttonPressed(.unladen, kernelNanoseconds: rng.next())
        case 26..<28: return .buttonReleased(pick(LaneButton.allCases), kernelNanoseconds: rng.next())
        case 28..<31: return .buttonPressed(.help, kernelNanoseconds: rng.next())
        case 31..<50:
            let instruction: Instruction =
                Int.random(in: 0..<3, using: &rng) == 0
                ? pick(Instruction.allCases) : pick([.cleared, .inspect])
            var d = decision(instruction, pick(Reason.allCases))
            if Bool.random(using: &rng) { d.ubr = testUBR }
            return .decisionReceived(requestID: requestID(), decisionID: rng.next() % 1000, decision: d)
        case 50..<64:
            let running = Array(shell.timers).sorted { $0.rawValue < $1.rawValue }
            let timer =
                running.isEmpty || Int.random(in: 0..<5, using: &rng) == 0
                ? pick(LaneTimer.allCases) : pick(running)
            return .timerFired(timer)
        case 64..<69:
            return .override(
                requestID: requestID(), instruction: pick([.cleared, .inspect, .dropManifest]),
                reason: pick([.officerRelease, .officerDivert, .bundleOK]), officer: "o", text: "t")
        case 69..<72: return .offlineMode(on: Bool.random(using: &rng), officer: "o")
        case 72..<75: return .linkChanged(up: Bool.random(using: &rng))
        case 75..<78: return .open(officer: "o")
        case 78..<80: return .close(officer: "o")
        case 80..<83: return .helpAnswered(callID: callID(), officer: "o")
        case 83..<85: return .helpHeld(callID: callID())
        case 85..<88: return .helpEnded(callID: callID())
        case 88..<91: return .officerMessage(callID: callID(), phraseID: UInt16(roll), text: "")
        case 91..<94: return .languageSelected(pick(BoardState.Language.allCases))
        case 94..<97: return .fault(code: pick(["a", "b"]), text: "x")
        default: return .faultCleared(code: pick(["a", "b"]))
        }
    }
}
