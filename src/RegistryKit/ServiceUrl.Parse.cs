using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using RegistryKit.Internal;

namespace RegistryKit;

public sealed partial class ServiceUrl
{
    private const string ValidFormHint =
        "A valid form is 'protocol://[user[:password]@]host[:port][/path][?name=value&...]', as in 'dubbo://10.0.0.1:20880/com.example.Greeter?version=1.0'.";

    // What formatting adds besides escapes: '?backup=' for a host list given in the authority.
    private const int MaxFullFormGrowth = 16;

    private static readonly SearchValues<char> s_schemeChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-.");

    private static readonly SearchValues<char> s_hostChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._");

    /// <summary>Parses a URL.</summary>
    /// <param name="text">The URL text; surrounding spaces are ignored.</param>
    /// <returns>The URL.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException">
    /// The text is not a valid URL. The message quotes the offending part (credentials hidden) and shows a valid form.
    /// </exception>
    public static ServiceUrl Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParseCore(text, out ServiceUrl? url, out string? error) ? url : throw new FormatException(error);
    }

    /// <summary>Parses a URL, reporting failure instead of throwing.</summary>
    /// <param name="text">The URL text.</param>
    /// <param name="result">The URL, when the text is valid.</param>
    /// <returns><see langword="true"/> when the text is a valid URL.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out ServiceUrl? result)
    {
        if (text is null)
        {
            result = null;
            return false;
        }

        return TryParseCore(text, out result, out _);
    }

    private static bool TryParseCore(string input, [NotNullWhen(true)] out ServiceUrl? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (input.Length > MaxLength)
        {
            // Not quoted: hiding credentials means scanning and copying the whole text, megabytes of it from a hostile
            // registry; and a prefix cut short of the '@' could show a password.
            error = $"The service URL is {input.Length} characters long, over the limit of {MaxLength}. Shorten it. {ValidFormHint}";
            return false;
        }

        ReadOnlySpan<char> text = input.AsSpan().Trim(' ');
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsControl(c))
            {
                error = $"The service URL '{Quote(input)}' contains the control character U+{(int)c:X4} at index {i}. Percent-encode it (as '%{(int)c:X2}') or remove it.";
                return false;
            }

            if (c == ' ')
            {
                error = $"The service URL '{Quote(input)}' contains a space at index {i}. Percent-encode it as '%20'.";
                return false;
            }

            if (char.IsSurrogate(c))
            {
                // A lone surrogate is not text: UTF-8 cannot carry it, so the full form would hold U+FFFD instead and
                // parse back to a different URL.
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }

                error = $"The service URL '{Quote(input)}' contains the lone surrogate U+{(int)c:X4} at index {i}, which is not valid text. Remove it, or percent-encode the UTF-8 bytes of a whole character.";
                return false;
            }
        }

        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            error = $"The service URL '{Quote(input)}' has no scheme. {ValidFormHint}";
            return false;
        }

        ReadOnlySpan<char> scheme = text[..schemeEnd];
        if (!IsValidScheme(scheme))
        {
            error = $"The scheme '{QuotePart(input, scheme.ToString())}' of the service URL '{Quote(input)}' is not valid: a scheme starts with a letter and holds only letters, digits, '+', '-' and '.'. {ValidFormHint}";
            return false;
        }

        ReadOnlySpan<char> rest = text[(schemeEnd + 3)..];
        int queryAt = rest.IndexOf('?');
        ReadOnlySpan<char> query = queryAt >= 0 ? rest[(queryAt + 1)..] : [];
        ReadOnlySpan<char> beforeQuery = queryAt >= 0 ? rest[..queryAt] : rest;
        int pathAt = beforeQuery.IndexOf('/');
        ReadOnlySpan<char> authority = pathAt >= 0 ? beforeQuery[..pathAt] : beforeQuery;
        ReadOnlySpan<char> rawPath = pathAt >= 0 ? beforeQuery[(pathAt + 1)..] : [];

        string? username = null;
        string? password = null;
        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            ReadOnlySpan<char> userInfo = authority[..at];
            authority = authority[(at + 1)..];
            if (userInfo.IsEmpty)
            {
                error = $"The service URL '{Quote(input)}' has an '@' with no user name before it. Remove the '@' or write 'user@host'.";
                return false;
            }

            int colon = userInfo.IndexOf(':');
            ReadOnlySpan<char> rawUser = colon >= 0 ? userInfo[..colon] : userInfo;
            if (!PercentEncoding.TryDecode(rawUser, out string decodedUser, out string badUserEscape))
            {
                error = DecodeError(input, "user name", badUserEscape);
                return false;
            }

            username = decodedUser.Length == 0 ? null : decodedUser;
            if (colon >= 0)
            {
                if (!PercentEncoding.TryDecode(userInfo[(colon + 1)..], out string decodedPassword, out _))
                {
                    // The escape is part of the secret, so it is not quoted.
                    error = $"The password in the service URL '{Quote(input)}' has an invalid percent-escape. Write '%' as '%25' and escape other bytes as two hex digits, as in '%40' for '@'.";
                    return false;
                }

                password = decodedPassword;
            }
        }

        // "h1:1,h2:2,h3:3": the first endpoint is the URL's address, the others are backups (as Dubbo's 'backup').
        string? backups = null;
        int comma = authority.IndexOf(',');
        if (comma >= 0)
        {
            ReadOnlySpan<char> others = authority[(comma + 1)..];
            authority = authority[..comma];
            foreach (Range range in others.Split(','))
            {
                ReadOnlySpan<char> endpoint = others[range];
                if (!TryParseHostPort(input, endpoint, hostRequired: true, out _, out _, out error))
                {
                    return false;
                }
            }

            backups = others.ToString();
        }

        if (!TryParseHostPort(input, authority, hostRequired: username is not null || password is not null, out string host, out int port, out error))
        {
            return false;
        }

        if (!PercentEncoding.TryDecode(rawPath, out string path, out string badPathEscape))
        {
            error = DecodeError(input, "path", badPathEscape);
            return false;
        }

        if (!TryParseQuery(input, query, backups, out KeyValuePair<string, string>[]? parameters, out error))
        {
            return false;
        }

        var url = new ServiceUrl(scheme.ToString().ToLowerInvariant(), username, password, host, port, NormalizePath(path), parameters);

        // Parse(url.ToFullString()) must give the URL back, so its full form must fit the limit too. Escaping turns a
        // character into at most nine ('é' is '%C3%A9'), so only long input needs the check.
        if (input.Length > (MaxLength - MaxFullFormGrowth) / 9 && url.ToFullString() is { Length: > MaxLength } full)
        {
            error = $"The service URL '{Quote(input)}' is {full.Length} characters long once percent-encoded, over the limit of {MaxLength}. Shorten it.";
            return false;
        }

        result = url;
        return true;
    }

    private static bool TryParseHostPort(
        string input,
        ReadOnlySpan<char> segment,
        bool hostRequired,
        out string host,
        out int port,
        [NotNullWhen(false)] out string? error)
    {
        host = string.Empty;
        port = 0;
        error = null;
        ReadOnlySpan<char> hostPart;
        ReadOnlySpan<char> portPart = [];
        bool hasPort = false;
        bool bracketed = false;
        if (segment.StartsWith('['))
        {
            int close = segment.IndexOf(']');
            if (close < 0)
            {
                error = $"The host in the service URL '{Quote(input)}' opens a '[' that is never closed. Write an IPv6 address as '[::1]:20880'.";
                return false;
            }

            hostPart = segment[1..close];
            bracketed = true;
            ReadOnlySpan<char> after = segment[(close + 1)..];
            if (!after.IsEmpty)
            {
                if (after[0] != ':')
                {
                    error = $"The service URL '{Quote(input)}' has '{QuotePart(input, after.ToString())}' after the IPv6 address; only ':port' may follow it, as in '[::1]:20880'.";
                    return false;
                }

                portPart = after[1..];
                hasPort = true;
            }
        }
        else
        {
            int colon = segment.LastIndexOf(':');
            hostPart = colon >= 0 ? segment[..colon] : segment;
            if (colon >= 0)
            {
                portPart = segment[(colon + 1)..];
                hasPort = true;
                if (hostPart.Contains(':'))
                {
                    error = $"The host '{QuotePart(input, segment.ToString())}' in the service URL '{Quote(input)}' looks like an IPv6 address. Write it in brackets, as in 'dubbo://[::1]:20880'.";
                    return false;
                }
            }
        }

        if (hasPort)
        {
            if (portPart.IsEmpty || portPart.Length > 5 || portPart.ContainsAnyExceptInRange('0', '9')
                || !int.TryParse(portPart, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > MaxPort)
            {
                error = $"The port '{QuotePart(input, portPart.ToString())}' in the service URL '{Quote(input)}' is not a number from 0 to {MaxPort}. Write the port as digits, as in 'host:20880'.";
                port = 0;
                return false;
            }
        }

        if (hostPart.IsEmpty)
        {
            if (hostRequired || hasPort)
            {
                error = $"The service URL '{Quote(input)}' has no host, but a URL with a port or credentials needs one. Give a host, as in 'dubbo://user@10.0.0.1:20880'.";
                return false;
            }

            return true;
        }

        error = ValidateHost(hostPart.ToString(), bracketed, input);
        if (error is not null)
        {
            error = $"{error} (in the service URL '{Quote(input)}')";
            return false;
        }

        host = hostPart.ToString().ToLowerInvariant();
        return true;
    }

    private static bool TryParseQuery(
        string input,
        ReadOnlySpan<char> query,
        string? authorityBackups,
        [NotNullWhen(true)] out KeyValuePair<string, string>[]? parameters,
        [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (query.IsEmpty && authorityBackups is null)
        {
            parameters = [];
            return true;
        }

        var unique = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Range range in query.Split('&'))
        {
            ReadOnlySpan<char> segment = query[range];
            if (segment.IsEmpty)
            {
                continue;
            }

            int equals = segment.IndexOf('=');
            ReadOnlySpan<char> rawName = equals >= 0 ? segment[..equals] : segment;
            ReadOnlySpan<char> rawValue = equals >= 0 ? segment[(equals + 1)..] : [];
            if (!PercentEncoding.TryDecode(rawName, out string name, out string badNameEscape))
            {
                parameters = null;
                error = DecodeError(input, "name of a parameter", badNameEscape);
                return false;
            }

            if (name.Length == 0)
            {
                parameters = null;
                error = $"The service URL '{Quote(input)}' has a parameter with an empty name. Parameters take the form 'name=value' joined by '&'.";
                return false;
            }

            if (!PercentEncoding.TryDecode(rawValue, out string value, out string badValueEscape))
            {
                parameters = null;
                error = Redaction.IsSensitiveName(name)
                    ? $"The value of the parameter '{QuotePart(input, name)}' in the service URL '{Quote(input)}' has an invalid percent-escape. Write '%' as '%25' and escape other bytes as two hex digits."
                    : DecodeError(input, $"value of the parameter '{QuotePart(input, name)}'", badValueEscape);
                return false;
            }

            unique[name] = value;
        }

        if (authorityBackups is not null)
        {
            unique[ServiceUrlKeys.Backup] = unique.TryGetValue(ServiceUrlKeys.Backup, out string? existing) && existing.Length > 0
                ? string.Concat(authorityBackups, ",", existing)
                : authorityBackups;
        }

        parameters = [.. unique];
        Array.Sort(parameters, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return true;
    }

    private static bool IsValidScheme(ReadOnlySpan<char> scheme) =>
        !scheme.IsEmpty && char.IsAsciiLetter(scheme[0]) && !scheme.ContainsAnyExcept(s_schemeChars);

    /// <summary>Returns why <paramref name="host"/> is not a valid host, or <see langword="null"/> when it is.</summary>
    private static string? ValidateHost(string host, bool bracketed, string? input)
    {
        string Q(string part) => input is null ? Sanitize(part) : QuotePart(input, part);

        if (bracketed)
        {
            return IPAddress.TryParse(host, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetworkV6
                ? null
                : $"The host '[{Q(host)}]' is not a valid IPv6 address. Write one as '[::1]' or '[2001:db8::7]'.";
        }

        if (host.Length > 253)
        {
            return $"The host '{Q(host)}' is {host.Length} characters long; a host name has at most 253.";
        }

        int bad = host.AsSpan().IndexOfAnyExcept(s_hostChars);
        return bad < 0
            ? null
            : $"The host '{Q(host)}' contains '{Q(host[bad].ToString())}', which a host name may not hold. Use a DNS name, an IPv4 address or a bracketed IPv6 address.";
    }

    private static string DecodeError(string input, string part, string badEscape) =>
        badEscape.Length == 0
            ? $"The {part} of the service URL '{Quote(input)}' is not valid UTF-8 once percent-decoded. Escape each byte of a UTF-8 character, as in '%C3%A9' for 'é'."
            : $"The {part} of the service URL '{Quote(input)}' has an invalid percent-escape '{QuotePart(input, badEscape)}'. Write '%' as '%25' and escape other bytes as two hex digits, as in '%2F'.";

    /// <summary>
    /// Makes untrusted URL text safe to put in a message: credentials in it hidden, control characters shown as
    /// escapes, and its length capped.
    /// </summary>
    private static string Quote(string input) => Sanitize(RedactRaw(input));

    /// <summary>Quotes text that may be a URL for a message: credentials hidden, control characters escaped, length capped.</summary>
    internal static string QuoteRedacted(string input) => Quote(input);

    /// <summary>Parses <paramref name="text"/>, giving the reason (credentials hidden) when it is not a service URL.</summary>
    internal static bool TryParse(string text, [NotNullWhen(true)] out ServiceUrl? result, [NotNullWhen(false)] out string? error) =>
        TryParseCore(text, out result, out error);

    /// <summary>Quotes a part of <paramref name="input"/>, hiding it wherever it is, or holds, one of the input's secrets.</summary>
    private static string QuotePart(string input, string part)
    {
        foreach (string secret in SecretCandidates(input))
        {
            if (secret.Contains(part, StringComparison.Ordinal))
            {
                return Redaction.Mask;
            }

            part = part.Replace(secret, Redaction.Mask, StringComparison.Ordinal);
        }

        return Sanitize(part);
    }

    private static string Sanitize(string text) => UntrustedText.Quote(text);

    /// <summary>Hides the password and credential-like parameter values in raw, possibly malformed URL text.</summary>
    private static string RedactRaw(string text)
    {
        string redacted = text;
        foreach (string secret in SecretCandidates(text))
        {
            redacted = redacted.Replace(secret, Redaction.Mask, StringComparison.Ordinal);
        }

        return redacted;
    }

    /// <summary>
    /// Finds what may be a secret in raw URL text, erring towards hiding too much: everything between the first
    /// ':' after the scheme and the last '@' before the query (a password, even one whose unescaped '/' broke the
    /// authority), and the value of every parameter whose name marks a credential.
    /// </summary>
    private static List<string> SecretCandidates(string text)
    {
        var secrets = new List<string>(2);
        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        int start = schemeEnd >= 0 ? schemeEnd + 3 : 0;
        int queryAt = text.IndexOf('?', start);
        int end = queryAt >= 0 ? queryAt : text.Length;
        int at = end > start ? text.LastIndexOf('@', end - 1, end - start) : -1;
        int colon = at > start ? text.IndexOf(':', start, at - start) : -1;
        if (colon >= 0 && at > colon + 1)
        {
            secrets.Add(text[(colon + 1)..at]);
        }

        if (queryAt >= 0)
        {
            foreach (string segment in text[(queryAt + 1)..].Split('&'))
            {
                int equals = segment.IndexOf('=', StringComparison.Ordinal);
                if (equals < 0 || equals == segment.Length - 1)
                {
                    continue;
                }

                string name = PercentEncoding.TryDecode(segment.AsSpan(0, equals), out string decoded, out _) ? decoded : segment[..equals];
                if (Redaction.IsSensitiveName(name))
                {
                    secrets.Add(segment[(equals + 1)..]);
                }
            }
        }

        return secrets;
    }
}
