using System.Buffers;
using System.Text;

namespace RegistryKit.Internal;

/// <summary>RFC 3986 percent-encoding for the parts of a <see cref="ServiceUrl"/>.</summary>
internal static class PercentEncoding
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Unreserved characters plus the sub-delimiters each part may keep literally. '%' is never literal.
    // '+' is escaped in queries so form-decoders elsewhere cannot read it as a space.
    private static readonly SearchValues<char> s_userInfoSafe =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*+,;=");
    private static readonly SearchValues<char> s_pathSafe =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*+,;=:@/");
    private static readonly SearchValues<char> s_querySafe =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,;:@/");

    public enum Part
    {
        UserInfo,
        Path,
        Query,
    }

    /// <summary>Appends <paramref name="value"/> with every character outside the part's safe set escaped as UTF-8.</summary>
    public static void Append(StringBuilder builder, string value, Part part)
    {
        SearchValues<char> safe = part switch
        {
            Part.UserInfo => s_userInfoSafe,
            Part.Path => s_pathSafe,
            _ => s_querySafe,
        };

        ReadOnlySpan<char> rest = value;
        Span<byte> bytes = stackalloc byte[4];
        while (!rest.IsEmpty)
        {
            int unsafeAt = rest.IndexOfAnyExcept(safe);
            if (unsafeAt < 0)
            {
                builder.Append(rest);
                return;
            }

            builder.Append(rest[..unsafeAt]);
            rest = rest[unsafeAt..];
            int charCount = char.IsHighSurrogate(rest[0]) && rest.Length > 1 && char.IsLowSurrogate(rest[1]) ? 2 : 1;
            int byteCount = Encoding.UTF8.GetBytes(rest[..charCount], bytes);
            for (int i = 0; i < byteCount; i++)
            {
                builder.Append('%').Append(HexUpper(bytes[i] >> 4)).Append(HexUpper(bytes[i] & 0xF));
            }

            rest = rest[charCount..];
        }
    }

    /// <summary>
    /// Decodes <paramref name="text"/>. Returns <see langword="false"/> with the offending escape (or an empty
    /// string when the bytes are not UTF-8) when it is malformed.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out string decoded, out string badEscape)
    {
        badEscape = string.Empty;
        int firstEscape = text.IndexOf('%');
        if (firstEscape < 0)
        {
            decoded = text.ToString();
            return true;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            int length = 0;
            ReadOnlySpan<char> rest = text;
            while (!rest.IsEmpty)
            {
                int escapeAt = rest.IndexOf('%');
                ReadOnlySpan<char> literal = escapeAt < 0 ? rest : rest[..escapeAt];
                length += Encoding.UTF8.GetBytes(literal, rented.AsSpan(length));
                if (escapeAt < 0)
                {
                    break;
                }

                rest = rest[escapeAt..];
                if (rest.Length < 3)
                {
                    badEscape = rest.ToString();
                    decoded = string.Empty;
                    return false;
                }

                int high = HexValue(rest[1]);
                int low = HexValue(rest[2]);
                if (high < 0 || low < 0)
                {
                    badEscape = rest[..3].ToString();
                    decoded = string.Empty;
                    return false;
                }

                rented[length++] = (byte)((high << 4) | low);
                rest = rest[3..];
            }

            try
            {
                decoded = s_strictUtf8.GetString(rented, 0, length);
                return true;
            }
            catch (DecoderFallbackException)
            {
                decoded = string.Empty;
                return false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static char HexUpper(int value) => (char)(value < 10 ? '0' + value : 'A' + value - 10);

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
