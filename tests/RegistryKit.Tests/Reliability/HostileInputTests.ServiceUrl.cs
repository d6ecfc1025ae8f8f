namespace RegistryKit.Tests.Reliability;

/// <summary>
/// Hostile input against the library's untrusted-input boundaries: URL parsing, registry snapshots, cache files,
/// names that try to leave the cache folder, and credentials that must never be shown.
/// </summary>
[CancelAfter(60_000)]
public partial class HostileInputTests
{
    private const int GeneratedUrls = 100_000;

    [Test]
    public void ServiceUrl_100000HostileInputs_ThrowOnlyFormatException_AndEveryAcceptedOneRoundTrips()
    {
        HostileInput input = HostileInput.FromEnvironment();
        int accepted = 0;
        for (int i = 0; i < GeneratedUrls; i++)
        {
            string text = input.NextUrlLike();
            string? problem = CheckParseContract(text);
            if (problem is not null)
            {
                Assert.Fail($"{problem} Input '{HostileInput.Show(text)}', {input.Replay(i)}.");
            }

            accepted += ServiceUrl.TryParse(text, out _) ? 1 : 0;
        }

        // The generator must reach both sides of the parser, or the round-trip half proves nothing.
        TestContext.Out.WriteLine($"Seed {input.Seed}: {accepted} of {GeneratedUrls} inputs accepted.");
        Assert.That(accepted, Is.InRange(GeneratedUrls / 10, GeneratedUrls * 9 / 10), $"seed {input.Seed}");
    }

    // Built at run time: a lone surrogate in an attribute's string is stored as U+FFFD in the assembly's metadata.
    private static readonly TestCaseData[] s_loneSurrogates =
    [
        new TestCaseData("dubbo://h/" + (char)0xD800).SetName("ServiceUrl_LoneHighSurrogateInThePath_IsRejected"),
        new TestCaseData("dubbo://h/x?a=" + (char)0xDC00 + "b").SetName("ServiceUrl_LoneLowSurrogateInAValue_IsRejected"),
        new TestCaseData("dubbo://u" + (char)0xD800 + ":p@h/x").SetName("ServiceUrl_LoneSurrogateInTheUserName_IsRejected"),
        new TestCaseData("dubbo://h/" + (char)0xDC00 + (char)0xD800).SetName("ServiceUrl_SurrogatesInTheWrongOrder_AreRejected"),
    ];

    [TestCaseSource(nameof(s_loneSurrogates))]
    public void ServiceUrl_LoneSurrogate_IsRejectedInsteadOfComingBackAsU_FFFD(string text)
    {
        FormatException? error = Assert.Throws<FormatException>(() => ServiceUrl.Parse(text));

        Assert.That(error!.Message, Does.Contain("lone surrogate"));
        Assert.That(CheckParseContract(text), Is.Null);
    }

    [Test]
    public void ServiceUrl_PairedSurrogates_AreAcceptedAndRoundTrip()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h/\U0001D518");

        Assert.That(url.Path, Is.EqualTo("\U0001D518"));
        Assert.That(CheckParseContract(url.ToFullString()), Is.Null);
    }

    [Test]
    public void ServiceUrl_WithinTheLimitButLongerOnceEscaped_IsRejectedSoItsFullFormStillParses()
    {
        // 'é' is one character but six once escaped ('%C3%A9'): the full form of this URL is six times the limit.
        string text = "dubbo://h/" + new string('é', ServiceUrl.MaxLength - "dubbo://h/".Length);

        FormatException? error = Assert.Throws<FormatException>(() => ServiceUrl.Parse(text));

        Assert.That(error!.Message, Does.Contain("once percent-encoded").And.Contain(ServiceUrl.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(CheckParseContract(text), Is.Null);
    }

    [Test]
    public void ServiceUrl_LongestFullFormThatFits_IsAcceptedAndRoundTrips()
    {
        string prefix = "dubbo://h/";
        string text = prefix + new string('é', (ServiceUrl.MaxLength - prefix.Length) / 6);

        Assert.That(ServiceUrl.TryParse(text, out ServiceUrl? url), Is.True);
        Assert.That(url!.ToFullString(), Has.Length.LessThanOrEqualTo(ServiceUrl.MaxLength));
        Assert.That(CheckParseContract(text), Is.Null);
    }

    /// <summary>
    /// What ServiceUrl's XML docs and docs/service-url.md promise for any text: Parse throws FormatException or
    /// nothing; TryParse agrees with Parse; an accepted URL's full form parses back to an equal URL with the same full
    /// form; ToString never throws. Returns the broken promise, or <see langword="null"/>.
    /// </summary>
    private static string? CheckParseContract(string text)
    {
        ServiceUrl? parsed = null;
        try
        {
            parsed = ServiceUrl.Parse(text);
        }
        catch (FormatException)
        {
        }
        catch (Exception exception)
        {
            return $"Parse threw {exception.GetType().Name} ({exception.Message}), not FormatException.";
        }

        bool tried;
        ServiceUrl? triedUrl;
        try
        {
            tried = ServiceUrl.TryParse(text, out triedUrl);
        }
        catch (Exception exception)
        {
            return $"TryParse threw {exception.GetType().Name} ({exception.Message}).";
        }

        if (tried != (parsed is not null) || (parsed is not null && parsed != triedUrl))
        {
            return "TryParse and Parse disagree.";
        }

        if (parsed is null)
        {
            return null;
        }

        string full = parsed.ToFullString();
        ServiceUrl? again;
        try
        {
            again = ServiceUrl.Parse(full);
        }
        catch (FormatException exception)
        {
            return $"The full form '{HostileInput.Show(full)}' of an accepted URL does not parse: {exception.Message}";
        }

        if (again != parsed || again.GetHashCode() != parsed.GetHashCode())
        {
            return $"The full form '{HostileInput.Show(full)}' parses to '{HostileInput.Show(again.ToFullString())}', a different URL.";
        }

        if (again.ToFullString() != full)
        {
            return $"The full form is not stable: '{HostileInput.Show(full)}' then '{HostileInput.Show(again.ToFullString())}'.";
        }

        _ = parsed.ToString();
        return null;
    }
}
