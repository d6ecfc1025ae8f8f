using System.Globalization;
using System.Text;

namespace RegistryKit.Internal;

/// <summary>Makes text from outside (user input, a server's answer) safe to quote in a message: bounded, control characters escaped.</summary>
internal static class UntrustedText
{
    /// <summary>How many characters of the text a message quotes at the most.</summary>
    public const int QuoteLimit = 200;

    /// <summary>Cuts <paramref name="text"/> at <see cref="QuoteLimit"/> characters (marking the cut) and escapes control characters as <c>\uXXXX</c>.</summary>
    public static string Quote(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, QuoteLimit) + 8);
        foreach (char c in text)
        {
            if (builder.Length >= QuoteLimit)
            {
                builder.Append('…');
                break;
            }

            if (char.IsControl(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
