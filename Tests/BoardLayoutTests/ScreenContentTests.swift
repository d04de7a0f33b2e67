import Foundation
import RoadCargo
import Testing

@testable import BoardLayout

@Suite struct ScreenContentTests {
    let vrn = ScreenCatalogue.sampleVRN

    func decided(_ instruction: Instruction, _ reason: Reason, _ earliest: Date? = nil) -> BoardState {
        BoardState(
            phase: .decided(instruction: instruction, reason: reason, earliestCrossing: earliest), vrn: vrn)
    }

    /// Colour is never the only signal: each instruction has its own pictogram.
    @Test func everyInstructionHasItsOwnPictogram() {
        let states: [BoardState] = Instruction.allCases.map { decided($0, .bundleOK) }
        let pictograms = states.map { ScreenContent(board: .xdb, state: $0).pictogram }
        #expect(Set(pictograms).count == Instruction.allCases.count)
    }

    @Test func systemUnavailableIsStopOnTheXDBAndDropManifestOnTheAIOP() {
        let state = BoardState(phase: .systemUnavailable, vrn: vrn)
        let xdb = ScreenContent(board: .xdb, state: state)
        let aiop = ScreenContent(board: .aiop, state: state)
        #expect(xdb.instruction == .stop && xdb.pictogram == .stop && xdb.tone == .stop)
        #expect(aiop.instruction == .dropManifest && aiop.pictogram == .dropManifest)
        #expect(aiop.details.map(\.text) == [BoardText.systemUnavailable])
    }

    /// Shown in Hong Kong time whatever the host's zone (the tests run in UTC).
    @Test func earlyCrossingShowsTheEarliestTimeInHongKongTime() {
        let state = decided(.inspect, .earlyCrossing, ScreenCatalogue.sampleEarliestCrossing)
        let aiop = ScreenContent(board: .aiop, state: state)
        let xdb = ScreenContent(board: .xdb, state: state)
        #expect(aiop.details.first?.text.english.hasSuffix("Earliest crossing: 2009-10-24 23:26:44") == true)
        #expect(aiop.details.first?.text.traditionalChinese.hasSuffix("最早過境時間：2009-10-24 23:26:44") == true)
        #expect(aiop.details.first?.pictogram == .clock)
        #expect(xdb.details.map(\.text.english) == ["Earliest crossing 23:26:44"])
        #expect(xdb.details.map(\.text.traditionalChinese) == ["最早過境 23:26:44"])
    }

    /// A driver must not learn that a watch list or a random draw picked them.
    @Test func targetedAndRandomAreNotExplainedToTheDriver() {
        for reason in [Reason.targeted, .random, .officerDivert] {
            #expect(ScreenContent(board: .aiop, state: decided(.inspect, reason)).details.isEmpty)
        }
        #expect(
            ScreenContent(board: .aiop, state: decided(.inspect, .noBundle)).details.map(\.text) == [
                BoardText.noBundle
            ])
        #expect(ScreenContent(board: .xdb, state: decided(.inspect, .noBundle)).details.isEmpty)
    }

    @Test func theUnladenInvitationGivesWayToTheAcknowledgement() {
        var state = BoardState(phase: .stop(awaitingUnladen: true), vrn: vrn)
        let invited = ScreenContent(board: .aiop, state: state)
        #expect(invited.details.map(\.text) == [BoardText.unladenInvitation])
        #expect(invited.details.first?.pictogram == .unladenButton(pressed: false))
        state.unladenAcknowledged = true
        let acknowledged = ScreenContent(board: .aiop, state: state)
        #expect(acknowledged.details.isEmpty)
        #expect(acknowledged.overlays.map(\.kind) == [.unladenAcknowledged])
        #expect(ScreenContent(board: .xdb, state: state).overlays.isEmpty)
    }

    @Test func overlaysAndTheLinkMarkAreForTheAIOPTheOfflineMarkForBoth() {
        let state = BoardState(
            phase: .stop(awaitingUnladen: false), vrn: vrn, help: .connected,
            officerMessage: BoardState.OfficerMessage(phraseID: 2), offline: true, linkDown: true)
        let aiop = ScreenContent(board: .aiop, state: state)
        let xdb = ScreenContent(board: .xdb, state: state)
        #expect(aiop.overlays.map(\.kind) == [.officerConnected, .officerMessage])
        #expect(aiop.overlays.last?.title.english == "Move to bay 3")
        #expect(aiop.marks == [.offline, .linkDown])
        #expect(aiop.vrn == vrn)
        #expect(xdb.overlays.isEmpty && xdb.marks == [.offline] && xdb.vrn == nil)
        var ringing = state
        ringing.help = .ringing
        #expect(ScreenContent(board: .aiop, state: ringing).overlays.first?.pictogram == .bell)
    }

    @Test func anUnknownPhraseShowsTheFreeTextUnderAGenericTitle() {
        func message(_ id: UInt16, _ text: String) -> [ScreenContent.Overlay] {
            let state = BoardState(
                phase: .welcome, officerMessage: BoardState.OfficerMessage(phraseID: id, text: text))
            return ScreenContent(board: .aiop, state: state).overlays
        }
        #expect(message(999, "Bay 5").map(\.title) == [BoardText.officerMessage])
        #expect(message(999, "Bay 5").map(\.body) == ["Bay 5"])
        #expect(message(999, "").isEmpty, "nothing to show")
        let long = String(repeating: "x", count: 200)
        let cut = message(1, long).first?.body
        #expect(cut?.count == ScreenContent.Overlay.freeTextLimit && cut?.hasSuffix("…") == true)
    }

    @Test func phrasesHaveUniqueIdsAndAllThreeTranslations() {
        #expect(Set(OfficerPhrase.all.map(\.id)).count == OfficerPhrase.all.count)
        for phrase in OfficerPhrase.all {
            for language in BoardState.Language.allCases {
                #expect(!phrase.text.text(in: language).isEmpty)
            }
        }
        #expect(OfficerPhrase.phrase(id: 3)?.text.english == "Have your documents ready")
    }
}
