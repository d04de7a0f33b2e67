import AnyJSON
import ArgumentParser
import Foundation
import LaneControl

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where clearanced is and who is asking.
struct CentralOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "clearanced's base URL (default: LANEKIOSK_SERVER, else http://127.0.0.1:8080).", valueName: "url"
        ))
    var server: String?

    @Option(
        help: ArgumentHelp("A file holding the API token (default: LANEKIOSK_TOKEN).", valueName: "file"),
        completion: .file())
    var tokenFile: String?

    @Option(help: ArgumentHelp("Seconds to wait for clearanced.", valueName: "seconds"))
    var timeout: Double = 30

    @Flag(help: "Print clearanced's JSON answer instead of the summary.")
    var json = false

    func validate() throws {
        _ = try baseURL()
        _ = try token()
        guard timeout > 0, timeout <= 3600 else {
            throw ValidationError("--timeout \(timeout): give seconds between 0 and 3600")
        }
    }

    func baseURL() throws -> URL {
        let text =
            server ?? ProcessInfo.processInfo.environment["LANEKIOSK_SERVER"] ?? "http://127.0.0.1:8080"
        let source = server == nil ? "LANEKIOSK_SERVER" : "--server"
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw ValidationError("\(source) \(text): give clearanced's URL, e.g. http://127.0.0.1:8080")
        }
        return url
    }

    /// The bearer token: from the file when given, else from the environment.
    func token() throws -> String {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ValidationError(
                    "--token-file \(tokenFile): cannot read it (missing, or not yours to read)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("--token-file \(tokenFile) is empty") }
            return token
        }
        let token = (ProcessInfo.processInfo.environment["LANEKIOSK_TOKEN"] ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw ValidationError(
                "no API token: pass --token-file FILE or set LANEKIOSK_TOKEN"
                    + " (tokens come from `clearanced account add`)")
        }
        return token
    }

    func client() throws -> CentralClient {
        CentralClient(base: try baseURL(), token: try token(), timeout: timeout)
    }

    /// Prints the answer as JSON with --json, else as the summary.
    func show(_ answer: JSONValue, _ summary: (JSONValue) -> String) {
        Output.line(json ? answer.rendered(pretty: true) : summary(answer))
    }
}

/// clearanced's HTTP API through URLSession (libcurl underneath on Linux,
/// so https and proxies work as curl's do).
struct CentralClient: Sendable {
    var base: URL
    var token: String
    var timeout: Double

    /// A request body and its media type.
    struct Body {
        var data: Data
        var contentType: String

        static func json(_ value: JSONValue) -> Body {
            Body(data: Data(value.rendered(pretty: false).utf8), contentType: "application/json")
        }
    }

    /// Sends one request; returns the JSON of a 2xx answer, throws a
    /// `Failure` built from the problem document of anything else.
    func send(_ method: String, _ path: String, query: [URLQueryItem] = [], body: Body? = nil)
        async throws(Failure)
        -> JSONValue
    {
        var components = URLComponents(url: base, resolvingAgainstBaseURL: false)!
        components.percentEncodedPath = components.percentEncodedPath.trimmingSuffix("/") + path
        components.queryItems = query.isEmpty ? nil : query
        guard let url = components.url else {
            throw Failure(.usage, "cannot make a URL from \(base) and \(path)")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json, application/problem+json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body.data
            request.setValue(body.contentType, forHTTPHeaderField: "Content-Type")
        }
        let what = "\(method) \(path)"
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Self.transportFailure(error, url: base, what: what)
        }
        guard let http = response as? HTTPURLResponse else {
            throw Failure(.dataError, "clearanced's answer to \(what) is not HTTP")
        }
        let answer = JSONValue.parse(data)
        if (200..<300).contains(http.statusCode) {
            if data.isEmpty { return .object([:]) }
            guard let answer else {
                throw Failure(
                    .dataError,
                    "clearanced answered \(what) with \(http.statusCode) but not JSON:"
                        + " \(String(decoding: data.prefix(120), as: UTF8.self))")
            }
            return answer
        }
        throw Self.problemFailure(status: http.statusCode, answer: answer, raw: data, what: what)
    }

    private static func transportFailure(_ error: any Error, url: URL, what: String) -> Failure {
        let reason = (error as? URLError).map(\.code)
        switch reason {
        case .timedOut?:
            return Failure(.timedOut, "clearanced at \(url) did not answer \(what) in time")
        case .cannotConnectToHost?, .cannotFindHost?, .networkConnectionLost?, .notConnectedToInternet?,
            .dnsLookupFailed?:
            return Failure(
                .unavailable,
                "cannot reach clearanced at \(url): \(error.localizedDescription) (is it running?)")
        default:
            return Failure(
                .unavailable, "\(what) to clearanced at \(url) failed: \(error.localizedDescription)")
        }
    }

    /// An RFC 9457 problem as lines a person reads: status and title, then
    /// each issue with its field and rule; the exit code says whose move it is.
    static func problemFailure(status: Int, answer: JSONValue?, raw: Data, what: String) -> Failure {
        let kind: Failure.Kind
        switch status {
        case 401, 403: kind = .noPermission
        case 500...: kind = .unavailable
        default: kind = .refused
        }
        guard let answer, answer.object != nil else {
            let body = String(decoding: raw.prefix(200), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            return Failure(
                kind, "clearanced answered \(what) with \(status)\(body.isEmpty ? "" : ": \(body)")")
        }
        let type = answer["type"]?.string.map { $0.split(separator: ":").last.map(String.init) ?? $0 }
        let title = answer["title"]?.string ?? HTTPURLResponse.localizedString(forStatusCode: status)
        var message = "clearanced refused \(what): \(status)"
        if let type { message += " \(type)" }
        message += ", \(title)"
        var details: [String] = []
        for issue in answer["errors"]?.array ?? [] {
            let field = issue["field"]?.text ?? ""
            let rule = issue["rule"]?.text ?? ""
            let detail = issue["detail"]?.text ?? ""
            details.append((field.isEmpty ? "" : "\(field): ") + detail + (rule.isEmpty ? "" : " [\(rule)]"))
        }
        if details.isEmpty, let detail = answer["detail"]?.string, !detail.isEmpty, detail != title {
            details.append(detail)
        }
        if status == 401 {
            details.append("check the token (--token-file or LANEKIOSK_TOKEN)")
        }
        return Failure(kind, message, details: details)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
