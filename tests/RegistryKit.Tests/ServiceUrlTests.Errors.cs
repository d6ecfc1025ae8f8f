namespace RegistryKit.Tests;

public partial class ServiceUrlTests
{
    [TestCase("10.0.0.1:20880/svc", "has no scheme")]
    [TestCase("://h:1", "scheme '' of the service URL")]
    [TestCase("9dubbo://h:1", "scheme '9dubbo'")]
    [TestCase("dubbo://h:99999/s", "port '99999'")]
    [TestCase("dubbo://h:80a/s", "port '80a'")]
    [TestCase("dubbo://h:/s", "port ''")]
    [TestCase("dubbo://:80/s", "no host")]
    [TestCase("dubbo://user@/s", "no host")]
    [TestCase("dubbo://@h:1", "no user name before it")]
    [TestCase("dubbo://::1:80/s", "in brackets")]
    [TestCase("dubbo://[::1/s", "never closed")]
    [TestCase("dubbo://[::1]x/s", "only ':port' may follow")]
    [TestCase("dubbo://[zz::1]:1/s", "not a valid IPv6 address")]
    [TestCase("dubbo://ho$t:1/s", "contains '$'")]
    [TestCase("dubbo://h:1/a%zzb", "invalid percent-escape '%zz'")]
    [TestCase("dubbo://h:1/ab%4", "invalid percent-escape '%4'")]
    [TestCase("dubbo://h:1/a%C3", "not valid UTF-8")]
    [TestCase("dubbo://h:1/s?=v", "empty name")]
    [TestCase("dubbo://h:1/s?a=%G0", "invalid percent-escape '%G0'")]
    [TestCase("dubbo://h:1/a b", "space at index")]
    [TestCase("dubbo://h:1/a\nb", "control character U+000A")]
    [TestCase("dubbo://h:1/a\u007Fb", "control character U+007F")]
    public void Parse_Malformed_ThrowsFormatExceptionQuotingTheProblem(string text, string expected)
    {
        var exception = Assert.Throws<FormatException>(() => ServiceUrl.Parse(text));

        Assert.That(exception!.Message, Does.Contain(expected));
        Assert.That(ServiceUrl.TryParse(text, out ServiceUrl? result), Is.False);
        Assert.That(result, Is.Null);
    }

    [Test]
    public void Parse_NoScheme_MessageShowsAValidForm()
    {
        var exception = Assert.Throws<FormatException>(() => ServiceUrl.Parse("etcd//x"));

        Assert.That(exception!.Message, Does.Contain("'etcd//x' has no scheme").And.Contain("dubbo://10.0.0.1:20880"));
    }

    [Test]
    public void Parse_OverLimit_ThrowsWithoutEchoingTheWholeInput()
    {
        string text = "dubbo://h:1/s?a=" + new string('x', ServiceUrl.MaxLength);

        var exception = Assert.Throws<FormatException>(() => ServiceUrl.Parse(text));

        Assert.That(exception!.Message, Does.Contain("over the limit of 65536"));
        Assert.That(exception.Message.Length, Is.LessThan(600));
    }

    [Test]
    public void Parse_AtLimit_Succeeds()
    {
        string prefix = "dubbo://h:1/s?a=";
        string text = prefix + new string('x', ServiceUrl.MaxLength - prefix.Length);

        Assert.That(ServiceUrl.Parse(text).GetParameter("a"), Has.Length.EqualTo(ServiceUrl.MaxLength - prefix.Length));
    }

    [Test]
    public void Parse_Null_ThrowsArgumentNull()
    {
        Assert.That(() => ServiceUrl.Parse(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("text"));
        Assert.That(ServiceUrl.TryParse(null, out _), Is.False);
    }

    private const string Canary = "Canary-7f3a";

    [TestCase("dubbo://admin:" + Canary + "@h:99999/s")]
    [TestCase("dubbo://admin:" + Canary + "@:80/s")]
    [TestCase("dubbo://admin:" + Canary + "%zz@h:1/s")]
    [TestCase("dubbo://admin:pa/" + Canary + "@h:1/s")]
    [TestCase("dubbo://admin:" + Canary + "/x@h:1/s")]
    [TestCase("dubbo://h:99999/s?token=" + Canary)]
    [TestCase("dubbo://h:1/s?access_token=" + Canary + "%G1")]
    [TestCase("dubbo://h:1/s?apiKey=" + Canary + "&=x")]
    [TestCase("dubbo://h:1/s?pass%77ord=" + Canary + "&=x")]
    [TestCase("dubbo://h:1/s?secret=" + Canary + "&x=\n")]
    public void Parse_MalformedWithCredentials_MessageNeverShowsThem(string text)
    {
        var exception = Assert.Throws<FormatException>(() => ServiceUrl.Parse(text));

        Assert.That(exception!.Message, Does.Not.Contain(Canary));
    }

    [Test]
    public void ToString_HidesPasswordAndCredentialParameters()
    {
        ServiceUrl url = ServiceUrl.Parse(
            $"etcd://root:{Canary}@h:2379/x?password={Canary}&Auth.Token={Canary}&client_secret={Canary}&credentials={Canary}&apiKey={Canary}&name=visible");

        string shown = url.ToString();

        Assert.That(shown, Does.Not.Contain(Canary));
        Assert.That(shown, Does.Contain("root:***@h:2379").And.Contain("name=visible").And.Contain("apiKey=***"));
        Assert.That(url.ToFullString(), Does.Contain(Canary));
    }

    [Test]
    public void ToString_WithoutCredentials_EqualsFullString()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h:1/s?a=1");

        Assert.That(url.ToString(), Is.EqualTo(url.ToFullString()));
    }

    [Test]
    public void WithCredentials_HostlessMessage_DoesNotShowPassword()
    {
        ServiceUrl url = ServiceUrl.Parse($"memory:///x?token={Canary}");

        var exception = Assert.Throws<ArgumentException>(() => url.WithCredentials("u", Canary));

        Assert.That(exception!.Message, Does.Not.Contain(Canary));
    }
}
