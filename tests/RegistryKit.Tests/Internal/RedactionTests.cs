using RegistryKit.Internal;

namespace RegistryKit.Tests.Internal;

public class RedactionTests
{
    [TestCase("http://ops:pw@a:7700/x", "http://***@a:7700/x")]
    [TestCase("ops:pw@a:7700", "***@a:7700")]
    [TestCase("http://a:7700/?token=t1&app=shop&apiKey=k2", "http://a:7700/?token=***&app=shop&apiKey=***")]
    [TestCase("http://a:7700/path@not-userinfo", "http://a:7700/path@not-userinfo")]
    [TestCase("10.0.0.5:7700", "10.0.0.5:7700")]
    [TestCase("", "")]
    public void Address_HidesUserInfoAndSensitiveQueryValues(string address, string shown) =>
        Assert.That(Redaction.Address(address), Is.EqualTo(shown));

    [Test]
    public void RedactedAddress_FormatsRedacted() =>
        Assert.That($"{new RedactedAddress("http://u:secret@h")}", Is.EqualTo("http://***@h"));

    [Test]
    public void UntrustedText_IsBoundedAndEscaped()
    {
        string quoted = UntrustedText.Quote("a\nb" + new string('x', 500));

        Assert.That(quoted, Does.StartWith("a\\u000Ab"));
        Assert.That(quoted, Has.Length.EqualTo(UntrustedText.QuoteLimit + 1).And.EndsWith("…"));
    }
}
