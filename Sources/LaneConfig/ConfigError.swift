/// Everything wrong with a config file, each problem naming the file, the
/// line, the key and what was expected, so that a technician can fix them
/// all in one pass. `laned` prints it and exits with ``exitCode``.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One thing wrong with one key.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var file: String
        /// Where in the file, when the problem is at a place in it (1-based).
        public var line: Int?
        public var column: Int?
        /// The key's dotted path, e.g. `link.serial.baud`; empty for the file as a whole.
        public var key: String
        /// What was expected and what was found.
        public var message: String

        public init(file: String, line: Int?, column: Int?, key: String, message: String) {
            self.file = file
            self.line = line
            self.column = column
            self.key = key
            self.message = message
        }

        /// `FILE:LINE:COLUMN: KEY: MESSAGE`, the form editors and CI jump to.
        public var description: String {
            var place = file
            if let line { place += ":\(line)" }
            if let column { place += ":\(column)" }
            return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
        }
    }

    public var file: String
    /// In the order they occur in the file.
    public var problems: [Problem]

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems
    }

    /// EX_CONFIG from sysexits.h: systemd and operators read it as "fix the config".
    public var exitCode: Int32 { 78 }

    public var description: String {
        let head = problems.count == 1 ? "1 problem in \(file):" : "\(problems.count) problems in \(file):"
        return ([head] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}
