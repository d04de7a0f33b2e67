import Foundation

/// Something lanectl could not do, as the sentence a user sees and the exit
/// code a script sees.
struct Failure: Error, CustomStringConvertible {
    /// Exit codes, from sysexits(3) where one fits.
    enum Kind: Int32 {
        /// laned or clearanced understood the request and said no.
        case refused = 1
        /// The command line is incomplete for what it found (as ArgumentParser's own 64).
        case usage = 64
        /// An input file or a peer's answer is not what it must be.
        case dataError = 65
        /// An input file cannot be read.
        case noInput = 66
        /// Nothing to talk to: no socket, nothing listening, server down or failing.
        case unavailable = 69
        /// laned reported an internal error.
        case software = 70
        /// The output file cannot be written.
        case cantCreate = 73
        /// No answer in time; trying again may work.
        case timedOut = 75
        /// laned did not understand the request: lanectl and laned differ in version.
        case protocolMismatch = 76
        /// The socket's permissions or the API token forbid it.
        case noPermission = 77
    }

    var kind: Kind
    var message: String
    /// Further lines, printed indented under the message (a problem's issues).
    var details: [String] = []

    init(_ kind: Kind, _ message: String, details: [String] = []) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    var description: String { message }

    /// What stderr shows: `lanectl: message`, then the details.
    var report: String {
        (["lanectl: \(message)"] + details.map { "  \($0)" }).joined(separator: "\n")
    }
}

/// stdout and stderr. stdout is flushed after each write because
/// `journal --follow` is read through pipes, where it would otherwise wait in
/// a buffer until exit.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func bytes(_ data: Data) {
        FileHandle.standardOutput.write(data)
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Anything `print` buffered goes out before an error message.
    static func flush() {
        fflush(nil)
    }
}
