import ArgumentParser
import Foundation

/// Offline crossings at central (clearance rule 4): what lanes decided
/// offline, how central reconciled it, and acknowledging a conflict.
struct Reconciliation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Offline crossings and reconciliation conflicts at central (officer).",
        discussion: """
            A lane switched offline by an officer decides from its bundle cache and \
            sends each decision to central when the link is back. Central applies it \
            once; where the bundle had ended meanwhile (used elsewhere, debundled) or \
            was another vehicle's, it records a conflict for officers. `list` (the \
            default) shows open conflicts, or with --all every offline crossing, and \
            each lane's counts.
            """,
        subcommands: [ReconciliationList.self, ReconciliationAcknowledge.self],
        defaultSubcommand: ReconciliationList.self)
}

struct ReconciliationList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Open reconciliation conflicts (or, with --all, every offline crossing).")

    @Flag(help: "Every offline crossing (applied, no bundle, conflicts), not only open conflicts.")
    var all = false

    @Option(help: ArgumentHelp("One lane's only, e.g. LMC-IN-01.", valueName: "lane"))
    var lane: String?

    @Option(help: ArgumentHelp("How many, 1 to 1000 (default 100).", valueName: "n"))
    var limit: Int?

    @OptionGroup var central: CentralOptions

    func validate() throws {
        if let limit, !(1...1000).contains(limit) {
            throw ValidationError("--limit \(limit): give a number from 1 to 1000")
        }
        if let lane, lane.isEmpty || lane.count > 32 {
            throw ValidationError("--lane \(lane): give a lane id, e.g. LMC-IN-01")
        }
    }

    func run() async throws {
        var query: [URLQueryItem] = []
        if all { query.append(URLQueryItem(name: "all", value: "true")) }
        if let lane { query.append(URLQueryItem(name: "lane", value: lane)) }
        if let limit { query.append(URLQueryItem(name: "limit", value: "\(limit)")) }
        let list = try await central.client().send("GET", "/v1/reconciliation", query: query)
        central.show(list) { CentralTables.reconciliation($0, all: all) }
    }
}

struct ReconciliationAcknowledge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acknowledge",
        abstract: "Record that you have dealt with a reconciliation conflict; the record stays.")

    @Argument(help: "The offline crossing's id (the ID column of `lanectl reconciliation`).")
    var id: Int64

    @Option(help: ArgumentHelp("What you found or did (up to 500 characters).", valueName: "text"))
    var note: String?

    @OptionGroup var central: CentralOptions

    func validate() throws {
        guard id > 0 else { throw ValidationError("\(id): an offline crossing id is a positive number") }
        if let note, note.unicodeScalars.count > 500 {
            throw ValidationError("--note: at most 500 characters; it has \(note.unicodeScalars.count)")
        }
    }

    func run() async throws {
        let body = note.map { CentralClient.Body.json(.object(["note": .string($0)])) }
        let record = try await central.client().send(
            "POST", "/v1/reconciliation/\(id)/acknowledge", body: body)
        central.show(record, CentralTables.offlineCrossing)
    }
}
