namespace RegistryKit.Internal;

/// <summary>
/// Decides what is a credential, so that no log line, exception message, <c>ToString()</c> or file shows one.
/// </summary>
internal static class Redaction
{
    /// <summary>What stands in place of a hidden value.</summary>
    public const string Mask = "***";

    private static readonly string[] s_sensitiveFragments = ["password", "token", "secret", "credential", "key"];

    /// <summary>Whether a parameter with this name carries a credential, so its value is never shown.</summary>
    public static bool IsSensitiveName(string name)
    {
        foreach (string fragment in s_sensitiveFragments)
        {
            if (name.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Shows a free-form address (a master's or a server's, as the host configured it) without the credentials it may
    /// carry: the user-info before an <c>@</c> in the authority, and the values of query parameters whose names look
    /// sensitive. Used wherever such an address reaches a log line or an exception message.
    /// </summary>
    public static string Address(string? address)
    {
        if (string.IsNullOrEmpty(address))
        {
            return address ?? string.Empty;
        }

        int schemeEnd = address.IndexOf("://", StringComparison.Ordinal);
        int authorityStart = schemeEnd < 0 ? 0 : schemeEnd + 3;
        int authorityEnd = address.AsSpan(authorityStart).IndexOfAny('/', '?', '#');
        authorityEnd = authorityEnd < 0 ? address.Length : authorityStart + authorityEnd;
        int at = address.AsSpan(authorityStart, authorityEnd - authorityStart).LastIndexOf('@');
        string shown = at < 0 ? address : string.Concat(address.AsSpan(0, authorityStart), Mask, address.AsSpan(authorityStart + at));

        int query = shown.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            return shown;
        }

        string[] pairs = shown[(query + 1)..].Split('&');
        for (int i = 0; i < pairs.Length; i++)
        {
            int equals = pairs[i].IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && IsSensitiveName(pairs[i][..equals]))
            {
                pairs[i] = string.Concat(pairs[i].AsSpan(0, equals + 1), Mask);
            }
        }

        return string.Concat(shown.AsSpan(0, query + 1), string.Join('&', pairs));
    }
}
