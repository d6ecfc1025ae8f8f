using System.Diagnostics.CodeAnalysis;

namespace RegistryKit.Internal;

/// <summary>
/// The one shape of an options error: <c>{Options}.{Setting} is {value}; it {rule}.</c>, thrown as an
/// <see cref="ArgumentOutOfRangeException"/> whose parameter name is the setting.
/// </summary>
internal static class OptionsGuard
{
    /// <summary>Throws when <paramref name="condition"/> does not hold.</summary>
    /// <param name="options">The options class, such as <c>nameof(MultiMasterOptions)</c>.</param>
    /// <param name="condition">What the setting must satisfy.</param>
    /// <param name="setting">The setting's name.</param>
    /// <param name="value">Its value.</param>
    /// <param name="rule">The rule, completing "it …", such as "must be positive".</param>
    public static void Require(string options, bool condition, string setting, object? value, string rule)
    {
        if (!condition)
        {
            Throw(options, setting, value, rule);
        }
    }

    /// <summary>Throws the error for a setting out of range.</summary>
    [DoesNotReturn]
    public static void Throw(string options, string setting, object? value, string rule) =>
        throw new ArgumentOutOfRangeException(setting, value, $"{options}.{setting} is {value ?? "null"}; it {rule}.");
}
