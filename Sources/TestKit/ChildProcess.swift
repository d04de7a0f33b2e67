import Foundation

/// The package's executables as the tests run them: built beside the test
/// bundle by `swift build --build-tests`.
public enum BuiltProducts {
    /// The build's products directory, where the test bundle, `laned`,
    /// `lanectl`, `clearanced` and `lanesim` sit side by side.
    public static let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    /// The executable `name` in ``directory``.
    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}

extension Process {
    /// Waits until the process has exited, reading `output` to its end first
    /// (a child blocks once a pipe it writes to is full), and returns what it
    /// read. The blocking reads and the wait run on a Dispatch thread, never on
    /// the cooperative pool.
    @discardableResult
    public func finish(reading output: Pipe? = nil) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output?.fileHandleForReading.readDataToEndOfFile() ?? Data()
                self.waitUntilExit()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
    }
}
