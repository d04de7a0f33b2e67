import Foundation
import RoadCargo

/// What a lane's two boards (XDB and AIOP) must tell the driver now: the
/// lane's state reduced to what is displayed, and nothing else.
///
/// The lane state machine (LaneCore) produces it; the layout model turns it
/// into boxes of text and pictograms; the renderers draw those. Two equal
/// values always draw the same pixels, so a renderer redraws only when the
/// value changes.
public struct BoardState: Sendable, Hashable {
    /// The main message, one per lane state.
    public enum Phase: Sendable, Hashable {
        /// Lane closed by an officer or for maintenance (instruction CLOSED).
        case closed
        /// Open, no vehicle: WELCOME.
        case welcome
        /// A vehicle is in place and its decision is pending: STOP.
        /// `awaitingUnladen` is true while the unladen grace time runs and the
        /// AIOP should invite an unladen driver to press the button.
        case stop(awaitingUnladen: Bool)
        /// Rule 4: no decision in time. The XDB shows STOP; the AIOP shows
        /// DROP_MANIFEST; reason SYSTEM_UNAVAILABLE.
        case systemUnavailable
        /// A decision is shown: CLEARED, INSPECT (with its reason; for
        /// EARLY_CROSSING the earliest crossing time) or DROP_MANIFEST.
        case decided(instruction: Instruction, reason: Reason, earliestCrossing: Date?)
    }

    /// The help call, as the driver sees it.
    public enum Help: Sendable, Hashable {
        case idle
        /// Help was pressed; waiting for an officer.
        case ringing
        /// An officer answered and is on the intercom.
        case connected
    }

    /// A short officer message from the phrase list, shown on the AIOP.
    public struct OfficerMessage: Sendable, Hashable {
        /// The phrase's id in the phrase list (its three translations live with the layout).
        public var phraseID: UInt16
        /// Free text the officer added, shown as given; may be empty.
        public var text: String

        public init(phraseID: UInt16, text: String = "") {
            self.phraseID = phraseID
            self.text = text
        }
    }

    /// The languages of the AIOP; the XDB always shows Traditional Chinese and English together.
    public enum Language: String, Sendable, Hashable, CaseIterable, Codable {
        case traditionalChinese = "zh-Hant"
        case simplifiedChinese = "zh-Hans"
        case english = "en"
    }

    public var phase: Phase
    /// The vehicle in the lane, when one is.
    public var vrn: VRN?
    /// The driver's Unladen press was taken (shown as an acknowledgement on the AIOP).
    public var unladenAcknowledged: Bool
    public var help: Help
    public var officerMessage: OfficerMessage?
    /// The lane decides from its bundle cache (officer-switched offline mode):
    /// a small mark meant for officers.
    public var offline: Bool
    /// The link to central is down or still connecting: a small mark on the AIOP.
    public var linkDown: Bool
    /// The AIOP's language; the configured default returns when the vehicle leaves.
    public var language: Language

    public init(
        phase: Phase, vrn: VRN? = nil, unladenAcknowledged: Bool = false, help: Help = .idle,
        officerMessage: OfficerMessage? = nil, offline: Bool = false, linkDown: Bool = false,
        language: Language = .traditionalChinese
    ) {
        self.phase = phase
        self.vrn = vrn
        self.unladenAcknowledged = unladenAcknowledged
        self.help = help
        self.officerMessage = officerMessage
        self.offline = offline
        self.linkDown = linkDown
        self.language = language
    }

    /// The instruction this state shows on the XDB, as the journal and
    /// central name it.
    public var xdbInstruction: Instruction {
        switch phase {
        case .closed: .closed
        case .welcome: .welcome
        case .stop, .systemUnavailable: .stop
        case .decided(let instruction, _, _): instruction
        }
    }

    /// The instruction this state shows on the AIOP: as the XDB, except that
    /// rule 4's STOP asks the driver to drop the manifest.
    public var aiopInstruction: Instruction {
        if case .systemUnavailable = phase { return .dropManifest }
        return xdbInstruction
    }
}
