import Foundation
import RoadCargo

/// Named sample states, one per screen a driver can meet: what the golden
/// images, the README's pictures and the display benchmark draw.
public enum ScreenCatalogue {
    public struct Screen: Sendable, Hashable {
        /// A file-name-safe name, such as `inspect-early-crossing`.
        public var name: String
        /// The state in Traditional Chinese; ``state(in:)`` gives the other languages.
        public var state: BoardState
        /// The boards on which the screen differs from the others (the XDB
        /// shows no overlays, so most overlay screens are AIOP only).
        public var boards: [BoardKind]

        /// The state with the AIOP in `language`.
        public func state(in language: BoardState.Language) -> BoardState {
            var state = state
            state.language = language
            return state
        }
    }

    /// The briefing's example vehicle and bundle: bundled 2009-10-24 22:56:44,
    /// so the earliest crossing is 23:26:44 Hong Kong time.
    public static let sampleVRN = try! VRN("VRN0912")
    public static let sampleEarliestCrossing = try! HongKongTime.parse("2009-10-24T23:26:44+08:00")

    public static let screens: [Screen] = {
        let vrn = sampleVRN
        let both: [BoardKind] = [.xdb, .aiop]
        return [
            Screen(name: "closed", state: BoardState(phase: .closed), boards: both),
            Screen(name: "welcome", state: BoardState(phase: .welcome), boards: both),
            Screen(
                name: "stop", state: BoardState(phase: .stop(awaitingUnladen: false), vrn: vrn), boards: both),
            Screen(
                name: "stop-awaiting-unladen",
                state: BoardState(phase: .stop(awaitingUnladen: true), vrn: vrn),
                boards: [.aiop]),
            Screen(
                name: "stop-unladen-acknowledged",
                state: BoardState(phase: .stop(awaitingUnladen: true), vrn: vrn, unladenAcknowledged: true),
                boards: [.aiop]),
            Screen(
                name: "system-unavailable", state: BoardState(phase: .systemUnavailable, vrn: vrn),
                boards: [.aiop]),
            Screen(
                name: "drop-manifest",
                state: BoardState(
                    phase: .decided(
                        instruction: .dropManifest, reason: .paperManifest, earliestCrossing: nil), vrn: vrn),
                boards: both),
            Screen(
                name: "cleared",
                state: BoardState(
                    phase: .decided(instruction: .cleared, reason: .bundleOK, earliestCrossing: nil), vrn: vrn
                ),
                boards: both),
            Screen(
                name: "inspect",
                state: BoardState(
                    phase: .decided(instruction: .inspect, reason: .random, earliestCrossing: nil), vrn: vrn),
                boards: both),
            Screen(
                name: "inspect-early-crossing",
                state: BoardState(
                    phase: .decided(
                        instruction: .inspect, reason: .earlyCrossing,
                        earliestCrossing: sampleEarliestCrossing),
                    vrn: vrn),
                boards: both),
            Screen(
                name: "inspect-no-bundle",
                state: BoardState(
                    phase: .decided(instruction: .inspect, reason: .noBundle, earliestCrossing: nil), vrn: vrn
                ),
                boards: [.aiop]),
            Screen(
                name: "help-ringing",
                state: BoardState(phase: .stop(awaitingUnladen: false), vrn: vrn, help: .ringing),
                boards: [.aiop]),
            Screen(
                name: "officer-message",
                state: BoardState(
                    phase: .stop(awaitingUnladen: false), vrn: vrn, help: .connected,
                    officerMessage: BoardState.OfficerMessage(phraseID: 2, text: "Bay 3 is on your left")),
                boards: [.aiop]),
            Screen(
                name: "offline-link-down", state: BoardState(phase: .welcome, offline: true, linkDown: true),
                boards: both),
        ]
    }()

    /// The screen named `name`.
    public static func screen(named name: String) -> Screen? {
        screens.first { $0.name == name }
    }
}
