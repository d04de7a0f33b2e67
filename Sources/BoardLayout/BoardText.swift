import RoadCargo

/// One message in the three languages of the boards.
public struct LocalizedText: Sendable, Hashable {
    public var traditionalChinese: String
    public var simplifiedChinese: String
    public var english: String

    public init(_ traditionalChinese: String, _ simplifiedChinese: String, _ english: String) {
        self.traditionalChinese = traditionalChinese
        self.simplifiedChinese = simplifiedChinese
        self.english = english
    }

    public func text(in language: BoardState.Language) -> String {
        switch language {
        case .traditionalChinese: traditionalChinese
        case .simplifiedChinese: simplifiedChinese
        case .english: english
        }
    }

    /// `"%@"` in each translation replaced by `value` (a time, a number).
    public func filling(_ value: String) -> LocalizedText {
        LocalizedText(
            traditionalChinese.replacing("%@", with: value), simplifiedChinese.replacing("%@", with: value),
            english.replacing("%@", with: value))
    }
}

extension BoardState.Language {
    /// The font script the language is drawn with. English uses the
    /// Traditional Chinese face: Latin glyphs are the same in every face.
    public var script: FontScript {
        self == .simplifiedChinese ? .simplifiedChinese : .traditionalChinese
    }

    /// The language's name in itself, as the AIOP's language bar shows it.
    public var nativeName: String {
        switch self {
        case .traditionalChinese: "繁體中文"
        case .simplifiedChinese: "简体中文"
        case .english: "English"
        }
    }
}

/// Every text the boards show, in one place, so that the glyph test can
/// check each against the font and translators can review them together.
///
/// Instruction wording follows the briefing's "Customs Instructions on Visual
/// Display Unit" ("Please Stop", "Clearance Completed", ...).
public enum BoardText {
    public static let welcome = LocalizedText("歡迎", "欢迎", "Welcome")
    public static let welcomeDetail = LocalizedText(
        "請駛前並在白線前停車", "请驶前并在白线前停车", "Drive forward and stop at the white line")
    public static let stop = LocalizedText("請停車", "请停车", "Please Stop")
    public static let dropManifest = LocalizedText(
        "請將紙本艙單投入收集箱", "请将纸本舱单投入收集箱", "Drop paper manifest into drop-in box")
    public static let cleared = LocalizedText("清關完成", "清关完成", "Clearance Completed")
    public static let inspect = LocalizedText(
        "請駛往海關驗貨場接受檢查", "请驶往海关验货场接受检查", "Go to Customs Examination Compound for Inspection")
    public static let closed = LocalizedText("此通道已關閉", "此通道已关闭", "Lane Closed")
    public static let closedDetail = LocalizedText(
        "請使用其他通道", "请使用其他通道", "Please use another lane")

    /// The AIOP's invitation while the unladen grace time runs.
    public static let unladenInvitation = LocalizedText(
        "空車？請即按「空車」按鈕", "空车？请即按「空车」按钮", "Unladen vehicle? Press the Unladen Vehicle button now")
    /// Rule 4 on the AIOP, below DROP_MANIFEST.
    public static let systemUnavailable = LocalizedText(
        "系統暫時未能使用，已通知關員。請留在原地等候。", "系统暂时未能使用，已通知关员。请留在原地等候。",
        "System unavailable. An officer has been told; please stay where you are.")

    /// EARLY_CROSSING on the AIOP; `%@` is the Hong Kong date and time.
    public static let earlyCrossing = LocalizedText(
        "未到最早過境時間。最早過境時間：%@", "未到最早过境时间。最早过境时间：%@",
        "Before the earliest crossing time. Earliest crossing: %@")
    /// EARLY_CROSSING on the XDB, one short line per language; `%@` is the time of day.
    public static let earlyCrossingShort = LocalizedText("最早過境 %@", "最早过境 %@", "Earliest crossing %@")
    public static let ccrnExpired = LocalizedText(
        "你的組合內有貨物資料（CCRN）已過期。", "你的组合内有货物资料（CCRN）已过期。",
        "A consignment (CCRN) in your bundle is no longer valid.")
    public static let unladenConflict = LocalizedText(
        "已按「空車」按鈕，但此車輛有貨物組合。", "已按「空车」按钮，但此车辆有货物组合。",
        "Unladen Vehicle was pressed, but this vehicle has a cargo bundle.")
    public static let noBundle = LocalizedText(
        "找不到此車輛的貨物組合。", "找不到此车辆的货物组合。", "No cargo bundle was found for this vehicle.")

    public static let unladenAcknowledged = LocalizedText(
        "已收到「空車」申報", "已收到「空车」申报", "Unladen Vehicle press received")
    public static let helpRinging = LocalizedText(
        "正在呼叫關員，請稍候", "正在呼叫关员，请稍候", "Calling an officer, please wait")
    public static let officerConnected = LocalizedText(
        "關員已接聽，請說話", "关员已接听，请说话", "An officer is on the line. Please speak.")
    /// Heading of an officer message whose phrase this build does not know.
    public static let officerMessage = LocalizedText("關員訊息", "关员讯息", "Message from the officer")
    public static let vehicleLabel = LocalizedText("車牌", "车牌", "Vehicle")

    /// The officers' marks are bilingual whatever the AIOP's language: they are
    /// for officers, who read both.
    public static let offlineMark = "離線 OFFLINE"
    public static let linkDownMark = "斷線 LINK DOWN"

    /// What the driver is told about an INSPECT reason, if anything.
    ///
    /// TARGETED and RANDOM say nothing (a driver must not learn that a watch
    /// list or a random draw picked them); officers read every reason in the
    /// journal and on the console.
    public static func explanation(of reason: Reason) -> LocalizedText? {
        switch reason {
        case .ccrnExpired: ccrnExpired
        case .unladenConflict: unladenConflict
        case .noBundle: noBundle
        default: nil
        }
    }

    /// Every fixed string the boards can show, with the script it is drawn in,
    /// for the glyph test. Templates appear with their `%@` replaced by a
    /// sample holding every character a filled-in value can contain.
    public static var allShippedStrings: [(text: String, script: FontScript)] {
        let texts: [LocalizedText] =
            [
                welcome, welcomeDetail, stop, dropManifest, cleared, inspect, closed, closedDetail,
                unladenInvitation, systemUnavailable, earlyCrossing.filling(timeSample),
                earlyCrossingShort.filling(timeSample), ccrnExpired, unladenConflict, noBundle,
                unladenAcknowledged, helpRinging, officerConnected, officerMessage, vehicleLabel,
            ] + OfficerPhrase.all.map(\.text)
        var strings: [(String, FontScript)] = []
        for text in texts {
            for language in BoardState.Language.allCases {
                strings.append((text.text(in: language), language.script))
            }
        }
        for language in BoardState.Language.allCases {
            strings.append((language.nativeName, language.script))
        }
        strings += [
            (offlineMark, .traditionalChinese), (linkDownMark, .traditionalChinese),
            // What ends a truncated officer's free text.
            ("…", .traditionalChinese), ("…", .simplifiedChinese),
            // A VRN: 1 to 8 of A-Z and 0-9.
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", .traditionalChinese),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", .simplifiedChinese),
        ]
        return strings
    }

    /// Every character a Hong Kong date and time can contain.
    static let timeSample = "0123456789-: "
}

/// A short message an officer sends to the AIOP, chosen from a fixed list so
/// that it reaches every driver in their own language.
public struct OfficerPhrase: Sendable, Hashable, Identifiable {
    /// The id the officer's console and the lane link carry.
    public var id: UInt16
    public var text: LocalizedText

    public init(id: UInt16, text: LocalizedText) {
        self.id = id
        self.text = text
    }

    /// The phrase list. Ids are never reused: a lane running an older build
    /// shows an unknown id as a generic officer message with its free text.
    public static let all: [OfficerPhrase] = [
        OfficerPhrase(id: 1, text: LocalizedText("請稍候", "请稍候", "Please wait")),
        OfficerPhrase(id: 2, text: LocalizedText("請駛往 3 號車位", "请驶往 3 号车位", "Move to bay 3")),
        OfficerPhrase(
            id: 3, text: LocalizedText("請準備好你的文件", "请准备好你的文件", "Have your documents ready")),
        OfficerPhrase(id: 4, text: LocalizedText("請留在車內", "请留在车内", "Stay in your vehicle")),
        OfficerPhrase(id: 5, text: LocalizedText("請關掉引擎", "请关掉引擎", "Switch off the engine")),
        OfficerPhrase(id: 6, text: LocalizedText("請慢慢向前駛", "请慢慢向前驶", "Drive forward slowly")),
        OfficerPhrase(id: 7, text: LocalizedText("關員正前來協助", "关员正前来协助", "An officer is coming to help")),
        OfficerPhrase(
            id: 8,
            text: LocalizedText("請將紙本艙單投入收集箱", "请将纸本舱单投入收集箱", "Drop your paper manifest into the box")),
        OfficerPhrase(
            id: 9, text: LocalizedText("請出示駕駛執照", "请出示驾驶执照", "Show your driving licence")),
    ]

    /// The phrase with `id`, if this build knows it.
    public static func phrase(id: UInt16) -> OfficerPhrase? {
        all.first { $0.id == id }
    }
}
