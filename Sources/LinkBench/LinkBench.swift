import Foundation

/// `LinkBench`: request/response latency over loopback, as figures, not a test.
///
/// Every case runs at every payload size with the same warm-up and iteration
/// counts; the first case is the baseline the others are divided by.
@main
enum LinkBench {
    /// What is measured, baseline first; the whole decision round trip is
    /// measured after these (``DecisionRoundTrip``), with its own baseline.
    static let cases: [any RoundTripCase] = [BareTCPCase(), TransportTCPCase()]

    static func main() async {
        let options: Options
        do {
            options = try Options(CommandLine.arguments.dropFirst())
        } catch {
            FileHandle.standardError.write(Data("LinkBench: \(error)\n\n\(Options.usage)\n".utf8))
            exit(64)
        }
        if options.help {
            print(Options.usage)
            return
        }
        let selected = cases.filter { benchCase in options.only.map { benchCase.name.contains($0) } ?? true }
        let runner = Runner(iterations: options.iterations, warmUp: options.warmUp)
        print(
            "LinkBench: loopback, \(options.iterations) round trips per case after \(options.warmUp) warm-up;",
            "request and response of the payload size each; ratio = case / first case")
        print(row("payload", "case", "median", "p99", "mean", "min", "median ×", "p99 ×"))
        do {
            for size in options.sizes {
                var baseline: Figures?
                for benchCase in selected {
                    let figures = try await runner.measure(benchCase, payloadSize: size)
                    let base = baseline ?? figures
                    baseline = base
                    print(
                        row(
                            "\(size) B", benchCase.name, figures.median.microsecondsText,
                            figures.p99.microsecondsText, figures.mean.microsecondsText,
                            figures.minimum.microsecondsText, ratio(figures.median, base.median),
                            ratio(figures.p99, base.p99)))
                }
            }
        } catch {
            FileHandle.standardError.write(Data("LinkBench: \(error)\n".utf8))
            exit(1)
        }
        if options.only.map({ "decision".contains($0) }) ?? true {
            do {
                try await printDecisionRoundTrip(options)
            } catch {
                FileHandle.standardError.write(Data("LinkBench: decision round trip: \(error)\n".utf8))
                exit(1)
            }
        }
        print("\nThe same payloads on a serial line at 115200 baud, 8N1 (10 bits a byte), both ways:")
        for size in options.sizes {
            let seconds = Double(2 * size * 10) / 115_200
            print("  \(size) B request + \(size) B response: \(String(format: "%.2f ms", seconds * 1000))")
        }
    }

    private static func printDecisionRoundTrip(_ options: Options) async throws {
        // Each exchange writes to two SQLite files, so fewer iterations keep the run short.
        let iterations = max(1, options.iterations / 10)
        let warmUp = max(1, options.warmUp / 10)
        let result = try await DecisionRoundTrip.run(iterations: iterations, warmUp: warmUp)
        let wire = result.wire
        print(
            """

            Decision round trip through the whole link over TCP loopback, \(iterations) exchanges one at a time
            after \(warmUp) warm-up (lane outbox, frame + sign, session, central's applied log, handler,
            reply outbox, acks both ways), beside bare TCP with the same byte counts:
            """)
        print(row("request", "case", "median", "p99", "mean", "min", "median ×", "p99 ×"))
        for (name, figures) in [("bare TCP, same sizes", result.bare), ("whole link", result.link)] {
            print(
                row(
                    "\(wire.request) B", name, figures.median.microsecondsText, figures.p99.microsecondsText,
                    figures.mean.microsecondsText, figures.minimum.microsecondsText,
                    ratio(figures.median, result.bare.median), ratio(figures.p99, result.bare.p99)))
        }
        let seconds = Double(wire.total * 10) / 115_200
        print(
            """
            Bytes on the wire for one decision exchange, both ways: request \(wire.request) + decision \(wire.decision)
            + 2 acks × \(wire.ack) = \(wire.total) B; at 115200 baud 8N1: \(String(format: "%.1f ms", seconds * 1000))
            """)
    }

    private static func row(_ columns: String...) -> String {
        let widths = [9, 26, 11, 11, 11, 11, 9, 9]
        return zip(columns, widths).map { text, width in
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }.joined()
    }

    private static func ratio(_ value: Duration, _ base: Duration) -> String {
        String(format: "%.2f", value / base)
    }
}

/// Command-line options; no argument parser, to keep the bench's dependencies
/// to the link and NIO.
struct Options {
    var iterations = 20_000
    var warmUp = 2_000
    var sizes = [64, 256, 1024]
    var only: String?
    var help = false

    static let usage = """
        usage: LinkBench [--iterations N] [--warm-up N] [--sizes 64,256,1024] [--only TEXT]
          --iterations N   timed round trips per case and size (default 20000)
          --warm-up N      untimed round trips first (default 2000)
          --sizes LIST     payload sizes in bytes, comma-separated (default 64,256,1024)
          --only TEXT      run only the cases whose name contains TEXT
        """

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(_ arguments: ArraySlice<String>) throws {
        var rest = arguments
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw Invalid(description: "\(flag) needs a value") }
            return next
        }
        func count(_ flag: String, minimum: Int) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= minimum else {
                throw Invalid(
                    description: "\(flag) wants a whole number of at least \(minimum), not '\(text)'")
            }
            return number
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--iterations": iterations = try count(argument, minimum: 1)
            case "--warm-up": warmUp = try count(argument, minimum: 0)
            case "--sizes":
                let text = try value(argument)
                let parsed = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) > 0 }) else {
                    throw Invalid(
                        description: "--sizes wants positive byte counts like 64,256,1024, not '\(text)'")
                }
                sizes = parsed.compactMap { $0 }
            case "--only": only = try value(argument)
            case "--help", "-h": help = true
            default: throw Invalid(description: "unknown argument '\(argument)'")
            }
        }
    }
}
