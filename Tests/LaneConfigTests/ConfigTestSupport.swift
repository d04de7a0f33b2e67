import Foundation
import LaneConfig

/// A directory for config files, removed when the value goes.
final class ConfigDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lane-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `yaml` to `name` and returns the file's path.
    func write(_ yaml: String, as name: String = "lane.yaml") throws -> String {
        let path = url.appendingPathComponent(name).path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The smallest valid config: every key with a default left out.
let minimal = """
    lane:
      id: LMC-IN-01
      control_point: LMC
      direction: import
    link:
      tcp:
        host: 127.0.0.1
        port: 4711
      key_file: /etc/lanekiosk/LMC-IN-01.key
    gpio:
      backend: virtual
    displays:
      backend: headless

    """

/// `minimal` as a reload finds it: another link port, English on the AIOP,
/// and `sections` (YAML) added.
func minimalReloaded(adding sections: String) -> String {
    minimal.replacingOccurrences(of: "port: 4711", with: "port: 4712")
        .replacingOccurrences(
            of: "  backend: headless\n", with: "  backend: headless\n  default_language: en\n")
        + sections
}

/// The repository's `Config/` directory, found from this file.
let repositoryConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Config")

extension ConfigError {
    /// Problems as `KEY: MESSAGE`, for compact assertions.
    var keys: [String] { problems.map(\.key) }
}

/// Loads `yaml` from a file and returns the error it must raise.
func problems(_ yaml: String, in directory: ConfigDirectory) throws -> ConfigError {
    let path = try directory.write(yaml)
    do {
        let config = try LaneConfiguration.load(path: path)
        throw Unexpected(config: config)
    } catch let error as ConfigError {
        return error
    }
}

struct Unexpected: Error {
    var config: LaneConfiguration
}
