using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using RegistryKit.Etcd.Wire;
using RegistryKit.Transport;

namespace RegistryKit.Etcd;

/// <summary>Turns the gateway's error answers into <see cref="RegistryTransportException"/>s, transient or not.</summary>
internal static class EtcdErrors
{
    // gRPC status codes the gateway reports in "code".
    public const int NotFound = 5;
    public const int FailedPrecondition = 9;
    public const int Unauthenticated = 16;

    private static readonly string[] s_codeNames =
    [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
        "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable",
        "DataLoss", "Unauthenticated",
    ];

    /// <summary>Reads the gRPC code and message of an error body; <see langword="null"/> code when it is not the gateway's JSON.</summary>
    public static (int? Code, string Message) Parse(string body)
    {
        try
        {
            ErrorBody? error = JsonSerializer.Deserialize(body, EtcdJsonContext.Default.ErrorBody);
            if (error is not null && (error.Code != 0 || error.Message is not null || error.Error is not null))
            {
                return (error.Code, Clean(error.Message ?? error.Error ?? string.Empty));
            }
        }
        catch (JsonException)
        {
            // Not JSON (an unknown path answers plain text): quote the raw text instead.
        }

        return (null, Clean(body));
    }

    /// <summary>Whether a failed call with this code is worth retrying.</summary>
    public static bool IsTransient(HttpStatusCode status, int? code) =>
        code switch
        {
            // Unavailable, DeadlineExceeded, ResourceExhausted, Aborted, Internal / Unknown from a crashing member, and
            // Canceled: a member shutting down answers "grpc: the client connection is closing" (HTTP 408, code 1).
            14 or 4 or 8 or 10 or 13 or 2 or 1 => true,
            null => (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
            _ => false,
        };

    /// <summary>Builds the exception for a failed unary call.</summary>
    /// <param name="operation">The call, such as <c>kv/put</c>.</param>
    /// <param name="status">The HTTP status.</param>
    /// <param name="body">The answer's body.</param>
    /// <param name="afterReauthentication">Whether the call already re-authenticated once (a second 401 is then final).</param>
    public static RegistryTransportException ToException(string operation, HttpStatusCode status, string body, bool afterReauthentication = false)
    {
        (int? code, string message) = Parse(body);
        string codeText = code is { } c ? string.Create(CultureInfo.InvariantCulture, $", gRPC {CodeName(c)} ({c})") : string.Empty;
        string text = string.Create(CultureInfo.InvariantCulture, $"etcd answered '{operation}' with HTTP {(int)status}{codeText}: {message}");
        if (code == NotFound && message.Contains("lease not found", StringComparison.OrdinalIgnoreCase))
        {
            return new RegistrySessionLostException(text + " The lease (session) expired or was revoked.");
        }

        if (code == Unauthenticated)
        {
            return new RegistryTransportException(
                text + (afterReauthentication ? " Authenticating again did not help: check the user and password in the address." : string.Empty),
                isTransient: false);
        }

        return new RegistryTransportException(text, IsTransient(status, code));
    }

    /// <summary>Builds the exception for an <c>error</c> line inside a streamed answer.</summary>
    public static RegistryTransportException FromStreamError(string operation, StreamError error) =>
        new(
            string.Create(CultureInfo.InvariantCulture, $"etcd ended the '{operation}' stream: gRPC {CodeName(error.GrpcCode)} ({error.GrpcCode}): {Clean(error.Message ?? string.Empty)}"),
            isTransient: error.GrpcCode is not (3 or 7));

    private static string CodeName(int code) => code >= 0 && code < s_codeNames.Length ? s_codeNames[code] : "code";

    /// <summary>Registry text in a message: control characters out, and cut to a readable length.</summary>
    private static string Clean(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, EtcdDefaults.MaxQuotedBody + 1));
        foreach (char ch in text.AsSpan(0, Math.Min(text.Length, EtcdDefaults.MaxQuotedBody)))
        {
            builder.Append(char.IsControl(ch) ? ' ' : ch);
        }

        if (text.Length > EtcdDefaults.MaxQuotedBody)
        {
            builder.Append('…');
        }

        return builder.ToString().Trim();
    }
}
