using System.Globalization;
using System.Text;

namespace RegistryKit.Tests.Reliability;

/// <summary>
/// Generates hostile text from a seeded <see cref="Random"/>. The seed is fresh per run unless
/// <c>REGISTRYKIT_FUZZ_SEED</c> is set; every failure message carries it, so a failure replays.
/// </summary>
internal sealed class HostileInput
{
    private const string UrlAlphabet = "abcxyzABZ019:/@?&=%[],.-_~+#;! \t";

    private static readonly string[] s_fragments =
    [
        "://", "dubbo://", "consumer://", "empty://", "etcd://", "memory://", "@", ":", "::", "[::1]", "[", "]", "?", "&", "=",
        "%", "%2", "%zz", "%C3", "%C3%A9", "%FF", "%00", "%25", "%2F", "..", "../", "/", "//", "\\", ",", "h1,h2:1", ":99999",
        ":65535", ":0", ":080", "user:", "user:S3cr3t@", "password=", "token=x", "category=", "interface=*", "version=1.0",
        "group=a,b", "backup=", "\0", "\r\n", "\u0085", "\u007F", "\u200B", "\uFEFF", "\u2028", "é", "𝔘", "\uD800", "\uDC00",
        "ｈｏｓｔ", "Ω", "CON", "NUL", "COM1", "C:\\", " ",
    ];

    private static readonly string[] s_validUrls =
    [
        "dubbo://10.0.0.7:20880/com.example.Greeter?version=1.0&group=blue",
        "consumer://10.0.0.9/com.example.Greeter?category=providers,routers",
        "etcd://root:pw@127.0.0.1:2379,h2:2379/registrykit?timeout=3000",
        "dubbo://[::1]:20880/svc?anyhost=true",
        "empty:///com.example.Greeter?category=providers",
        "memory://",
        "dubbo://u%40c:p%3Aw@h:9/a%20b?k%26=caf%C3%A9%3D",
    ];

    private readonly Random _random;

    public HostileInput(int seed)
    {
        Seed = seed;
        _random = new Random(seed);
    }

    public int Seed { get; }

    public Random Random => _random;

    public static HostileInput FromEnvironment() =>
        new(int.TryParse(Environment.GetEnvironmentVariable("REGISTRYKIT_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
            ? seed
            : Random.Shared.Next());

    /// <summary>What to add to a failure message so that it replays.</summary>
    public string Replay(int index) => $"seed {Seed}, input #{index} (set REGISTRYKIT_FUZZ_SEED={Seed} to replay)";

    /// <summary>Shows text with every character outside printable ASCII escaped, cut at 300 characters.</summary>
    public static string Show(string text)
    {
        var builder = new StringBuilder();
        foreach (char c in text.Length > 300 ? text[..300] : text)
        {
            builder.Append(c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}");
        }

        return text.Length > 300 ? $"{builder}… ({text.Length} chars)" : builder.ToString();
    }

    /// <summary>One hostile string that may or may not be a URL: random, a mutated valid URL, or one built from parts.</summary>
    public string NextUrlLike() => _random.Next(4) switch
    {
        0 => NextChars(_random.Next(0, 40)),
        1 => Mutate(s_validUrls[_random.Next(s_validUrls.Length)]),
        2 => NextFromFragments(),
        _ => NextStructured(),
    };

    /// <summary>A URL built from random but mostly valid parts, so that many are accepted.</summary>
    public string NextStructured()
    {
        var builder = new StringBuilder();
        builder.Append(Pick("dubbo", "consumer", "etcd", "x+y.z-1", "Empty", "memory")).Append("://");
        if (_random.Next(3) == 0)
        {
            builder.Append(NextPart()).Append(_random.Next(2) == 0 ? ":" + NextPart() : string.Empty).Append('@');
        }

        builder.Append(Pick("10.0.0.1", "host-a.example", "H_1", "[::1]", "[fe80::1%1]", "[2001:DB8::7]", string.Empty));
        if (_random.Next(2) == 0)
        {
            builder.Append(':').Append(_random.Next(0, 70000).ToString(CultureInfo.InvariantCulture));
        }

        if (_random.Next(4) == 0)
        {
            builder.Append(",h2:").Append(_random.Next(1, 9));
        }

        if (_random.Next(3) != 0)
        {
            builder.Append('/').Append(NextPart());
        }

        int parameters = _random.Next(0, 5);
        for (int i = 0; i < parameters; i++)
        {
            builder.Append(i == 0 ? '?' : '&').Append(NextPart()).Append('=').Append(NextPart());
        }

        return builder.ToString();
    }

    /// <summary>Random characters from URL syntax, controls, non-ASCII, surrogates (paired and lone).</summary>
    public string NextChars(int length)
    {
        var builder = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            int kind = _random.Next(10);
            builder.Append(kind switch
            {
                < 6 => UrlAlphabet[_random.Next(UrlAlphabet.Length)],
                6 => (char)_random.Next(0, 0x20),
                7 => (char)_random.Next(0x80, 0x3000),
                8 => (char)_random.Next(0xD800, 0xE000),
                _ => (char)_random.Next(0xE000, 0x10000),
            });
        }

        return builder.ToString();
    }

    private string NextPart()
    {
        int length = _random.Next(0, 8);
        var builder = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            builder.Append(_random.Next(6) switch
            {
                0 => "%" + _random.Next(0, 256).ToString("X2", CultureInfo.InvariantCulture),
                1 => Pick("é", "𝔘", "+", "*", ",", ".", "~", "'", "!", "$", "(", ";", ":", "@"),
                _ => ((char)('a' + _random.Next(26))).ToString(),
            });
        }

        return builder.ToString();
    }

    private string NextFromFragments()
    {
        var builder = new StringBuilder();
        int count = _random.Next(1, 10);
        for (int i = 0; i < count; i++)
        {
            builder.Append(s_fragments[_random.Next(s_fragments.Length)]);
        }

        return builder.ToString();
    }

    private string Mutate(string valid)
    {
        var builder = new StringBuilder(valid);
        int edits = _random.Next(1, 4);
        for (int i = 0; i < edits; i++)
        {
            int at = _random.Next(builder.Length + 1);
            switch (_random.Next(3))
            {
                case 0 when at < builder.Length:
                    builder.Remove(at, 1);
                    break;
                case 1:
                    builder.Insert(at, s_fragments[_random.Next(s_fragments.Length)]);
                    break;
                default:
                    builder.Insert(at, NextChars(1));
                    break;
            }
        }

        return builder.ToString();
    }

    private string Pick(params string[] choices) => choices[_random.Next(choices.Length)];
}
