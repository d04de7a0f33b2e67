import RoadCargo

/// An instruction's colour family. Colour is never the only signal: each
/// instruction also has its own pictogram.
public enum Tone: String, Sendable, Hashable, CaseIterable {
    /// WELCOME, CLEARED: green.
    case go
    /// STOP, CLOSED: red.
    case stop
    /// INSPECT, DROP_MANIFEST: amber.
    case attention
}

/// What one board says about a ``BoardState``, before anything is placed:
/// the instruction, its pictogram and texts, the overlays and the marks.
///
/// The XDB says less than the AIOP: the instruction, and for EARLY_CROSSING the
/// earliest time. Help calls, officer messages, the Unladen acknowledgement and
/// the link mark are for the driver at the AIOP; the offline mark is on both.
public struct ScreenContent: Sendable, Hashable {
    /// A line under the instruction, such as the earliest crossing time.
    public struct Detail: Sendable, Hashable {
        public var pictogram: Pictogram?
        public var text: LocalizedText
    }

    /// Something that happens beside the instruction (AIOP only).
    public struct Overlay: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            case unladenAcknowledged
            case helpRinging
            case officerConnected
            case officerMessage
        }

        public var kind: Kind
        public var pictogram: Pictogram
        public var title: LocalizedText
        /// An officer's free text, shown as given in every language.
        public var body: String?

        /// The longest free text shown, in characters; longer text ends in "…".
        /// Every board geometry the tests check holds this much beside the
        /// longest phrase.
        public static let freeTextLimit = 80
    }

    /// A small mark meant for officers.
    public enum Mark: String, Sendable, Hashable, CaseIterable {
        /// The lane decides from its bundle cache.
        case offline
        /// The link to central is down or connecting (AIOP only).
        case linkDown

        public var pictogram: Pictogram { self == .offline ? .offline : .linkDown }
        public var label: String { self == .offline ? BoardText.offlineMark : BoardText.linkDownMark }
    }

    /// The instruction this board shows (the AIOP shows DROP_MANIFEST where the XDB shows STOP under rule 4).
    public var instruction: Instruction
    public var tone: Tone
    public var pictogram: Pictogram
    public var headline: LocalizedText
    public var details: [Detail]
    public var overlays: [Overlay]
    public var marks: [Mark]
    /// The vehicle's plate, shown on the AIOP so the driver knows the board means them.
    public var vrn: VRN?

    /// What `board` shows for `state`; `compoundSide` points INSPECT's arrow.
    public init(board: BoardKind, state: BoardState, compoundSide: CompoundSide = .right) {
        let aiop = board == .aiop
        vrn = aiop ? state.vrn : nil
        details = []
        overlays = []
        marks = state.offline ? [.offline] : []
        if aiop && state.linkDown { marks.append(.linkDown) }

        let instruction: Instruction
        switch state.phase {
        case .closed: instruction = .closed
        case .welcome: instruction = .welcome
        case .stop: instruction = .stop
        case .systemUnavailable: instruction = aiop ? .dropManifest : .stop
        case .decided(let decided, _, _): instruction = decided
        }
        self.instruction = instruction
        switch instruction {
        case .welcome: (tone, pictogram, headline) = (.go, .laneOpen, BoardText.welcome)
        case .closed: (tone, pictogram, headline) = (.stop, .laneClosed, BoardText.closed)
        case .stop: (tone, pictogram, headline) = (.stop, .stop, BoardText.stop)
        case .cleared: (tone, pictogram, headline) = (.go, .tick, BoardText.cleared)
        case .inspect:
            (tone, pictogram, headline) = (.attention, .toCompound(compoundSide), BoardText.inspect)
        case .dropManifest: (tone, pictogram, headline) = (.attention, .dropManifest, BoardText.dropManifest)
        }

        switch state.phase {
        case .welcome where aiop:
            details = [Detail(pictogram: nil, text: BoardText.welcomeDetail)]
        case .closed where aiop:
            details = [Detail(pictogram: nil, text: BoardText.closedDetail)]
        case .stop(let awaitingUnladen) where aiop && awaitingUnladen && !state.unladenAcknowledged:
            details = [Detail(pictogram: .unladenButton(pressed: false), text: BoardText.unladenInvitation)]
        case .systemUnavailable where aiop:
            details = [Detail(pictogram: nil, text: BoardText.systemUnavailable)]
        case .decided(.inspect, .earlyCrossing, let earliest?):
            // The briefing's "the display shows the earliest time", in Hong Kong time.
            let shown = HongKongTime.displayString(earliest)
            details = [
                aiop
                    ? Detail(pictogram: .clock, text: BoardText.earlyCrossing.filling(shown))
                    : Detail(
                        pictogram: nil, text: BoardText.earlyCrossingShort.filling(String(shown.suffix(8))))
            ]
        case .decided(.inspect, let reason, _) where aiop:
            if let text = BoardText.explanation(of: reason) { details = [Detail(pictogram: nil, text: text)] }
        default:
            break
        }

        guard aiop else { return }
        if state.unladenAcknowledged {
            overlays.append(
                Overlay(
                    kind: .unladenAcknowledged, pictogram: .unladenButton(pressed: true),
                    title: BoardText.unladenAcknowledged, body: nil))
        }
        switch state.help {
        case .idle: break
        case .ringing:
            overlays.append(
                Overlay(kind: .helpRinging, pictogram: .bell, title: BoardText.helpRinging, body: nil))
        case .connected:
            overlays.append(
                Overlay(
                    kind: .officerConnected, pictogram: .officer, title: BoardText.officerConnected, body: nil
                ))
        }
        if let message = state.officerMessage {
            let known = OfficerPhrase.phrase(id: message.phraseID)
            let text =
                message.text.count > Overlay.freeTextLimit
                ? message.text.prefix(Overlay.freeTextLimit - 1) + "…" : message.text
            let body = text.isEmpty ? nil : text
            if known != nil || body != nil {
                overlays.append(
                    Overlay(
                        kind: .officerMessage, pictogram: .message,
                        title: known?.text ?? BoardText.officerMessage,
                        body: body))
            }
        }
    }
}
