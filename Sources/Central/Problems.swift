import CargoStore
import ClearanceCore
import Foundation
import Hummingbird
import Logging
import RoadCargo

/// One thing wrong with a request, as problem bodies list it.
public struct IssueBody: Codable, Sendable, Hashable {
    public var field: String
    public var rule: String
    public var detail: String

    public init(_ issue: ValidationIssue) {
        field = issue.field
        rule = issue.rule
        detail = issue.detail
    }
}

/// An RFC 9457 problem document: the body of every 4xx and 5xx response.
///
/// `errors` is always present (possibly empty) so that clients can read it
/// without checking first; each entry names the field, a stable rule code
/// and a sentence.
public struct ProblemBody: Codable, Sendable, Hashable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var instance: String?
    public var errors: [IssueBody]
}

/// A refusal a handler throws; ``ProblemMiddleware`` renders it.
struct Problem: Error, Sendable {
    /// The kinds of problem, each with its fixed status, `type` URI and title.
    enum Kind: String, Sendable, CaseIterable {
        case malformed = "malformed-request"
        case unauthorized = "unauthorized"
        case forbidden = "forbidden"
        case notFound = "not-found"
        case routeNotFound = "route-not-found"
        case conflict = "conflict"
        case tooLarge = "payload-too-large"
        case unsupportedMediaType = "unsupported-media-type"
        case validation = "validation"
        case tooManyRequests = "too-many-requests"
        case unavailable = "service-unavailable"
        case internalError = "internal-error"

        var status: HTTPResponse.Status {
            switch self {
            case .malformed: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound, .routeNotFound: .notFound
            case .conflict: .conflict
            case .tooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .validation: .unprocessableContent
            case .tooManyRequests: .tooManyRequests
            case .unavailable: .serviceUnavailable
            case .internalError: .internalServerError
            }
        }

        var title: String {
            switch self {
            case .malformed: "The request could not be read"
            case .unauthorized: "Authentication required"
            case .forbidden: "Not allowed for this account"
            case .notFound: "No such record"
            case .routeNotFound: "No such route"
            case .conflict: "The current state forbids this"
            case .tooLarge: "The request body is too large"
            case .unsupportedMediaType: "Unsupported content type"
            case .validation: "The request breaks one or more rules"
            case .tooManyRequests: "Too many attempts"
            case .unavailable: "Busy; try again shortly"
            case .internalError: "Internal server error"
            }
        }

        var typeURI: String { "urn:lanekiosk:problem:\(rawValue)" }
    }

    var kind: Kind
    var detail: String
    var issues: [ValidationIssue] = []
    var headers: HTTPFields = [:]

    init(_ kind: Kind, _ detail: String, issues: [ValidationIssue] = [], headers: HTTPFields = [:]) {
        self.kind = kind
        self.detail = detail
        self.issues = issues
        self.headers = headers
    }

    /// A field-level refusal: 422 naming the field and rule.
    static func invalid(_ field: String, _ rule: String, _ detail: String) -> Problem {
        Problem(.validation, detail, issues: [ValidationIssue(field: field, rule: rule, detail: detail)])
    }

    /// Maps anything a handler or the store throws to a problem. Unknown
    /// errors become 500 with a neutral sentence: their text may hold
    /// internals (paths, SQL) that callers have no business seeing.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let p as Problem:
            return p
        case let f as ValidationFailure:
            return Problem(.validation, summary(f.issues), issues: f.issues)
        case let c as RuleConflict:
            return Problem(.conflict, summary(c.issues), issues: c.issues)
        case let d as AccessDenied:
            return Problem(.forbidden, d.detail)
        case let s as StoreError:
            switch s {
            case .notFound(let what): return Problem(.notFound, "\(what) not found")
            case .duplicate(let what): return Problem(.conflict, "\(what) already exists")
            case .incompatible: return Problem(.internalError, "the store cannot serve this request")
            }
        case let r as any HTTPResponseError where r.status == .contentTooLarge:
            // NIO's "too many bytes" from collecting a body past its limit.
            return Problem(.tooLarge, "the request body is larger than this route accepts")
        case let h as HTTPError:
            switch h.status {
            case .notFound: return Problem(.routeNotFound, "no route serves this method and path")
            case .contentTooLarge:
                return Problem(.tooLarge, "the request body is larger than this route accepts")
            case .badRequest: return Problem(.malformed, h.body ?? "the request could not be read")
            default:
                return Problem(.internalError, "the request could not be served")
            }
        default:
            return Problem(.internalError, "the request could not be served; the error was logged")
        }
    }

    private static func summary(_ issues: [ValidationIssue]) -> String {
        guard let first = issues.first else { return "the request was refused" }
        let head = first.field.isEmpty ? first.detail : "\(first.field): \(first.detail)"
        return issues.count == 1 ? head : "\(head) (and \(issues.count - 1) more)"
    }

    func response(instance: String?) -> Response {
        let body = ProblemBody(
            type: kind.typeURI, title: kind.title, status: Int(kind.status.code), detail: detail,
            instance: instance, errors: issues.map(IssueBody.init))
        var fields = headers
        fields[.contentType] = "application/problem+json"
        // Encoding plain strings and ints cannot fail; the fallback keeps the
        // promise that every error has a problem body anyway.
        let data = (try? JSONBody.encoder().encode(body)) ?? Data("{}".utf8)
        return Response(
            status: kind.status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error thrown below it, including Hummingbird's own "no
/// route" and "too large", into an `application/problem+json` response, so
/// no client sees a bare status or an internal message.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            if problem.kind == .internalError {
                logger.error(
                    "request failed",
                    metadata: [
                        "method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)",
                    ])
            }
            return problem.response(instance: request.uri.path)
        }
    }
}
