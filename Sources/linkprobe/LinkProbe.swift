import ArgumentParser

/// linkprobe: a lane-side test client of the lane link (work in progress).
@main
struct LinkProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linkprobe", abstract: "Send decision requests over the lane link.")

    func run() async throws {}
}
