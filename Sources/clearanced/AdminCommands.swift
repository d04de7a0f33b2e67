import ArgumentParser
import CargoStore
import Central
import Foundation
import RoadCargo

/// `clearanced account ...`: accounts are made on the server host, never
/// through the API, so that issuing a token needs shell access.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Manage API accounts.", subcommands: [Add.self, Password.self])

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an officer's console password, read from standard input (one line).",
            discussion: """
                The password is hashed with scrypt (N=2^15, r=8, p=1: 32 MiB per check) and \
                never stored or printed. Example: printf '%s\\n' "$PW" | clearanced account password --name chan
                """)

        @OptionGroup var store: StoreOptions

        @Option(help: "The officer account's login name.")
        var name: String

        func run() async throws {
            guard let line = readLine(strippingNewline: true) else {
                printError("clearanced: no password on standard input; pipe one line in")
                throw ExitCode(65)
            }
            if let problem = OfficerPasswords.problem(with: line) {
                printError("clearanced: \(problem)")
                throw ExitCode(65)
            }
            let repository = try await store.open()
            guard let account = try await repository.account(named: name) else {
                printError(
                    "clearanced: there is no account named \(name); create it with clearanced account add")
                throw ExitCode(65)
            }
            guard account.role == .officer else {
                printError(
                    "clearanced: \(name) is a \(account.role.rawValue) account; only officers log in to the console"
                )
                throw ExitCode(65)
            }
            try await repository.setPasswordHash(
                try OfficerPasswords.hash(line), for: account.name, at: Date())
            print("console password set for \(account.name)")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account and print its bearer token (shown once; only its hash is stored).")

        @OptionGroup var store: StoreOptions

        @Option(
            help: "Unique login name, e.g. winning-co or driver-ho (1 to 64 of a-z, A-Z, 0-9, '.', '_', '-')."
        )
        var name: String

        @Option(help: "One of: \(AccountRole.allCases.map(\.rawValue).joined(separator: ", ")).")
        var role: AccountRole

        @Option(
            name: .customLong("control-point"),
            help:
                "Limit an officer or an immigration account to one control point: \(ControlPoint.allCases.map(\.rawValue).joined(separator: ", "))."
        )
        var controlPoint: ControlPoint?

        func validate() throws {
            let allowed = CharacterSet(
                charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
            guard (1...64).contains(name.count), name.unicodeScalars.allSatisfy(allowed.contains) else {
                throw ValidationError(
                    "--name \"\(name)\": use 1 to 64 letters, digits, '.', '_' or '-', e.g. driver-ho")
            }
            if controlPoint != nil, role != .officer, role != .immigration {
                throw ValidationError(
                    "--control-point limits officer and immigration accounts only; drop it for a \(role.rawValue) account"
                )
            }
        }

        func run() async throws {
            let repository = try await store.open()
            let account = Account(name: name, role: role, controlPoint: controlPoint)
            let token: String
            do {
                token = try await repository.addAccount(account)
            } catch StoreError.duplicate {
                printError("clearanced: an account named \(name) already exists; pick another name")
                throw ExitCode(65)
            }
            print("account \(name) (\(role.rawValue)) created; its bearer token, shown only this once:")
            print(token)
        }
    }
}

/// `clearanced lane ...`: lanes can also be managed through the API by officers.
struct LaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lane", abstract: "Manage the lanes central knows.",
        subcommands: [Add.self, LaneKeyCommand.self, RotateKeyCommand.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or replace a lane.")

        @OptionGroup var store: StoreOptions

        @Option(help: "Lane id, e.g. LMC-IN-01 (1 to 32 of A-Z, a-z, 0-9, '-', '_').")
        var id: String

        @Option(
            name: .customLong("control-point"),
            help: "\(ControlPoint.allCases.map(\.rawValue).joined(separator: ", ")).")
        var controlPoint: ControlPoint

        @Option(help: "import (inbound) or export (outbound).")
        var direction: Direction

        @Option(
            name: .customLong("keys-dir"),
            help: "Also write the lane's new link key (mode 0600) as DIR/LANE-ID.key and print its path.")
        var keysDir: String?

        func validate() throws {
            do { _ = try LaneID(id) } catch { throw ValidationError("--id: \(error.issues[0].detail)") }
        }

        func run() async throws {
            let repository = try await store.open()
            let lane = Lane(id: try LaneID(id), controlPoint: controlPoint, direction: direction)
            try await repository.putLane(lane)
            print("lane \(lane.id) at \(controlPoint.rawValue), \(direction.rawValue)")
            if let keysDir { try LaneKeyCommand.issue(lane.id, in: keysDir, replacing: false) }
        }
    }
}
