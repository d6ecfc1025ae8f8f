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
}
