using System.Globalization;

namespace RegistryKit.Masters;

/// <summary>Makes worker identities the way Spark does: <c>worker-{yyyyMMddHHmmss}-{host}-{port}</c>.</summary>
public static class WorkerId
{
    /// <summary>The default pattern. Placeholders: <c>{timestamp}</c> (UTC, yyyyMMddHHmmss), <c>{host}</c>, <c>{port}</c>.</summary>
    public const string DefaultPattern = "worker-{timestamp}-{host}-{port}";

    /// <summary>Makes a worker id.</summary>
    /// <param name="timeProvider">The clock the timestamp is read from.</param>
    /// <param name="host">The worker's host.</param>
    /// <param name="port">The worker's port.</param>
    /// <param name="pattern">The pattern; <see cref="DefaultPattern"/> by default.</param>
    /// <returns>The id.</returns>
    /// <exception cref="ArgumentException">The host, the pattern or the result holds whitespace, or the pattern is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not from 0 to 65535.</exception>
    public static string Create(TimeProvider timeProvider, string host, int port, string pattern = DefaultPattern)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        if (port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, $"The port {port} is not a TCP port; give one from 0 to 65535.");
        }

        RejectWhitespace(host, nameof(host), "A host name");
        RejectWhitespace(pattern, nameof(pattern), "A worker id pattern");
        return pattern
            .Replace("{timestamp}", timeProvider.GetUtcNow().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{host}", host, StringComparison.Ordinal)
            .Replace("{port}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    /// <summary>Throws when <paramref name="value"/> holds whitespace, naming where and the fix.</summary>
    internal static void RejectWhitespace(string value, string paramName, string what)
    {
        int at = -1;
        for (int i = 0; i < value.Length && at < 0; i++)
        {
            at = char.IsWhiteSpace(value[i]) ? i : -1;
        }

        if (at >= 0)
        {
            throw new ArgumentException(
                $"{what} may not contain whitespace, and '{value}' has some at index {at}: masters use worker ids as keys and in log lines. Remove it or replace it with '-'.",
                paramName);
        }
    }
}
