namespace RegistryKit.Tests;

public partial class ServiceUrlTests
{
    [Test]
    public void Parse_FullUrl_ReadsEveryPart()
    {
        ServiceUrl url = ServiceUrl.Parse("Dubbo://alice:s3cret@Example.COM:20880/com.example.Greeter?version=1.0&group=blue");

        Assert.Multiple(() =>
        {
            Assert.That(url.Protocol, Is.EqualTo("dubbo"));
            Assert.That(url.Username, Is.EqualTo("alice"));
            Assert.That(url.Password, Is.EqualTo("s3cret"));
            Assert.That(url.Host, Is.EqualTo("example.com"));
            Assert.That(url.Port, Is.EqualTo(20880));
            Assert.That(url.Path, Is.EqualTo("com.example.Greeter"));
            Assert.That(url.Parameters, Is.EquivalentTo(new Dictionary<string, string> { ["version"] = "1.0", ["group"] = "blue" }));
            Assert.That(url.Address, Is.EqualTo("example.com:20880"));
        });
    }

    [TestCase("memory://")]
    [TestCase("dubbo://10.0.0.1:20880")]
    [TestCase("dubbo://10.0.0.1:20880/com.example.Greeter")]
    [TestCase("dubbo://u:p@h:1/a/b/c?x=1&y=2")]
    [TestCase("dubbo://[::1]:20880/svc")]
    [TestCase("empty:///com.example.Greeter?category=providers")]
    [TestCase("dubbo://h/path%20with%20space?name=caf%C3%A9&eq=a%3Db%26c")]
    [TestCase("dubbo://user%40corp:p%3Aw%2Fd@h:9/x")]
    [TestCase("etcd://h1:2379?backup=h2:2379,h3:2379")]
    public void Parse_ThenToFullString_RoundTrips(string text)
    {
        ServiceUrl url = ServiceUrl.Parse(text);

        ServiceUrl again = ServiceUrl.Parse(url.ToFullString());

        Assert.That(again, Is.EqualTo(url));
        Assert.That(again.ToFullString(), Is.EqualTo(url.ToFullString()));
    }

    [Test]
    public void Parse_PercentEscapes_AreDecoded()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://user%40corp:p%3Aw%2Fd@h:9/a%20b?k%26=caf%C3%A9%3D");

        Assert.That(url.Username, Is.EqualTo("user@corp"));
        Assert.That(url.Password, Is.EqualTo("p:w/d"));
        Assert.That(url.Path, Is.EqualTo("a b"));
        Assert.That(url.GetParameter("k&"), Is.EqualTo("café="));
    }

    [Test]
    public void ToFullString_EscapesWhatWouldChangeTheMeaning()
    {
        ServiceUrl url = ServiceUrl.Create("dubbo", "h", 1, "a b?c", [new("q", "x&y=z+%#")]);

        Assert.That(url.ToFullString(), Is.EqualTo("dubbo://h:1/a%20b%3Fc?q=x%26y%3Dz%2B%25%23"));
    }

    [Test]
    public void Parse_Ipv6Host_IsBracketedOnOutput()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://[2001:DB8::7]:20880/svc");

        Assert.That(url.Host, Is.EqualTo("2001:db8::7"));
        Assert.That(url.Address, Is.EqualTo("[2001:db8::7]:20880"));
        Assert.That(url.ToFullString(), Is.EqualTo("dubbo://[2001:db8::7]:20880/svc"));
    }

    [Test]
    public void Parse_CommaSeparatedHosts_KeepsFirstAndMovesOthersToBackup()
    {
        ServiceUrl url = ServiceUrl.Parse("etcd://10.0.0.1:2379,10.0.0.2:2379,[::1]:2379/root");

        Assert.That(url.Address, Is.EqualTo("10.0.0.1:2379"));
        Assert.That(url.BackupAddresses, Is.EqualTo(new[] { "10.0.0.2:2379", "[::1]:2379" }));
        Assert.That(url.Path, Is.EqualTo("root"));
    }

    [Test]
    public void Parse_DuplicateParameter_LastWins()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h:1/s?a=1&a=2&&b");

        Assert.That(url.GetParameter("a"), Is.EqualTo("2"));
        Assert.That(url.GetParameter("b"), Is.Empty);
        Assert.That(url.Parameters, Has.Count.EqualTo(2));
    }

    [Test]
    public void Parse_SurroundingSpaces_AreIgnored()
    {
        Assert.That(ServiceUrl.Parse("  dubbo://h:1  "), Is.EqualTo(ServiceUrl.Parse("dubbo://h:1")));
    }

    [Test]
    public void Equals_ParameterOrderDoesNotMatter()
    {
        ServiceUrl a = ServiceUrl.Parse("dubbo://h:1/s?a=1&b=2&c=3");
        ServiceUrl b = ServiceUrl.Parse("dubbo://h:1/s?c=3&a=1&b=2");

        Assert.That(a, Is.EqualTo(b));
        Assert.That(a == b, Is.True);
        Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
        Assert.That(a.ToFullString(), Is.EqualTo(b.ToFullString()));
    }

    [TestCase("dubbo://h:1/s?a=1", "dubbo://h:1/s?a=2")]
    [TestCase("dubbo://h:1/s", "dubbo://h:2/s")]
    [TestCase("dubbo://h:1/s", "dubbo://h:1/S")]
    [TestCase("dubbo://h:1/s", "rest://h:1/s")]
    [TestCase("dubbo://u:a@h:1/s", "dubbo://u:b@h:1/s")]
    [TestCase("dubbo://h:1/s?a=1", "dubbo://h:1/s?a=1&b=")]
    public void Equals_DifferentPart_NotEqual(string left, string right)
    {
        Assert.That(ServiceUrl.Parse(left), Is.Not.EqualTo(ServiceUrl.Parse(right)));
        Assert.That(ServiceUrl.Parse(left) != ServiceUrl.Parse(right), Is.True);
    }

    [Test]
    public void Equals_ProtocolAndHostIgnoreCase()
    {
        Assert.That(ServiceUrl.Parse("DUBBO://HOST:1/s"), Is.EqualTo(ServiceUrl.Parse("dubbo://host:1/s")));
    }

    [Test]
    public void TypedGetters_ReadValuesAndFallBackToDefaults()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h:1/s?timeout=3000&big=9000000000&flag=TRUE&bad=x1&empty=");

        Assert.Multiple(() =>
        {
            Assert.That(url.GetParameter("timeout", 5), Is.EqualTo(3000));
            Assert.That(url.GetParameter("big", 0L), Is.EqualTo(9_000_000_000L));
            Assert.That(url.GetParameter("big", 7), Is.EqualTo(7), "out of int range reads as absent");
            Assert.That(url.GetParameter("flag", false), Is.True);
            Assert.That(url.GetParameter("bad", 42), Is.EqualTo(42));
            Assert.That(url.GetParameter("bad", true), Is.True);
            Assert.That(url.GetParameter("missing", "fallback"), Is.EqualTo("fallback"));
            Assert.That(url.GetParameter("empty", "fallback"), Is.EqualTo("fallback"));
            Assert.That(url.GetParameter("empty"), Is.Empty);
            Assert.That(url.GetParameter("missing"), Is.Null);
            Assert.That(url.HasParameter("empty"), Is.True);
            Assert.That(url.HasParameter("missing"), Is.False);
        });
    }

    [Test]
    public void WithBuilders_ReturnChangedCopiesAndLeaveOriginal()
    {
        ServiceUrl original = ServiceUrl.Parse("dubbo://h:1/s?a=1");

        ServiceUrl changed = original
            .WithProtocol("REST")
            .WithAddress("[::1]", 8080)
            .WithPath("/other")
            .WithParameter("b", "2")
            .WithParameter("a", "9")
            .WithParameters([new("c", "3")])
            .WithoutParameters("b")
            .WithCredentials("bob", "pw");

        Assert.That(changed.ToFullString(), Is.EqualTo("rest://bob:pw@[::1]:8080/other?a=9&c=3"));
        Assert.That(changed.WithoutCredentials().ToFullString(), Is.EqualTo("rest://[::1]:8080/other?a=9&c=3"));
        Assert.That(changed.WithPort(9).Port, Is.EqualTo(9));
        Assert.That(original.ToFullString(), Is.EqualTo("dubbo://h:1/s?a=1"));
    }

    [Test]
    public void WithParameter_SameValue_ReturnsSameInstance()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h:1/s?a=1");

        Assert.That(url.WithParameter("a", "1"), Is.SameAs(url));
        Assert.That(url.WithoutParameters("zzz"), Is.SameAs(url));
    }

    [Test]
    public void Create_ValidatesParts()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => ServiceUrl.Create("9x", "h"), Throws.ArgumentException.With.Property("ParamName").EqualTo("protocol").And.Message.Contains("starts with a letter"));
            Assert.That(() => ServiceUrl.Create("dubbo", "h", 70000), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("port"));
            Assert.That(() => ServiceUrl.Create("dubbo", "", 80), Throws.ArgumentException.With.Property("ParamName").EqualTo("host").And.Message.Contains("needs one"));
            Assert.That(() => ServiceUrl.Create("dubbo", "bad host"), Throws.ArgumentException.With.Property("ParamName").EqualTo("host"));
            Assert.That(() => ServiceUrl.Create("dubbo", "h", parameters: [new("", "x")]), Throws.ArgumentException.With.Property("ParamName").EqualTo("parameters"));
            Assert.That(() => ServiceUrl.Create(null!, "h"), Throws.ArgumentNullException);
        });
    }

    [Test]
    public void WithCredentials_WithoutHost_Throws()
    {
        ServiceUrl url = ServiceUrl.Parse("memory://");

        Assert.That(() => url.WithCredentials("u", "p"), Throws.ArgumentException.With.Message.Contains("no host"));
    }

    [Test]
    public void RegistryConcepts_ReadFromParameters()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h:20880/path.Name?interface=com.example.Greeter&group=blue&version=2.0&category=routers&dynamic=false&check=false");

        Assert.Multiple(() =>
        {
            Assert.That(url.ServiceInterface, Is.EqualTo("com.example.Greeter"));
            Assert.That(url.ServiceKey, Is.EqualTo("blue/com.example.Greeter:2.0"));
            Assert.That(url.Category, Is.EqualTo("routers"));
            Assert.That(url.IsDynamic, Is.False);
            Assert.That(url.Check, Is.False);
            Assert.That(url.IsConsumer, Is.False);
        });
    }

    [Test]
    public void RegistryConcepts_Defaults()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h:20880/com.example.Greeter");

        Assert.Multiple(() =>
        {
            Assert.That(url.ServiceInterface, Is.EqualTo("com.example.Greeter"));
            Assert.That(url.ServiceKey, Is.EqualTo("com.example.Greeter"));
            Assert.That(url.Group, Is.Null);
            Assert.That(url.Version, Is.Null);
            Assert.That(url.Category, Is.EqualTo("providers"));
            Assert.That(url.IsDynamic, Is.True);
            Assert.That(url.Check, Is.True);
            Assert.That(url.IsEmptyMarker, Is.False);
            Assert.That(url.BackupAddresses, Is.Empty);
        });
    }

    [TestCase("dubbo://h/s?version=1", "s:1")]
    [TestCase("dubbo://h/s?group=g", "g/s")]
    public void ServiceKey_LeavesOutMissingParts(string text, string expected)
    {
        Assert.That(ServiceUrl.Parse(text).ServiceKey, Is.EqualTo(expected));
    }

    [TestCase("consumer://10.0.0.5:1234/s", true)]
    [TestCase("dubbo://10.0.0.5/s", true)]
    [TestCase("dubbo://10.0.0.5:0/s", true)]
    [TestCase("dubbo://10.0.0.5:20880/s", false)]
    public void IsConsumer_PortZeroOrConsumerProtocol(string text, bool expected)
    {
        Assert.That(ServiceUrl.Parse(text).IsConsumer, Is.EqualTo(expected));
    }

    [Test]
    public void ToEmptyMarker_KeepsIdentityAndNamesTheCategory()
    {
        ServiceUrl subscription = ServiceUrl.Parse("consumer://10.0.0.5/com.example.Greeter?category=providers,routers&version=1.0");

        ServiceUrl marker = subscription.ToEmptyMarker("routers");

        Assert.That(marker.IsEmptyMarker, Is.True);
        Assert.That(marker.Protocol, Is.EqualTo("empty"));
        Assert.That(marker.Category, Is.EqualTo("routers"));
        Assert.That(marker.ServiceKey, Is.EqualTo(subscription.ServiceKey));
        Assert.That(marker.Host, Is.EqualTo(subscription.Host));
    }

    [Test]
    public void Parameters_ViewIsOrderedReadOnlyDictionary()
    {
        ServiceUrl url = ServiceUrl.Parse("dubbo://h:1/s?b=2&a=1");

        Assert.That(url.Parameters.Keys, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(url.Parameters["b"], Is.EqualTo("2"));
        Assert.That(url.Parameters.ContainsKey("c"), Is.False);
        Assert.That(() => url.Parameters["c"], Throws.InstanceOf<KeyNotFoundException>());
    }
}
