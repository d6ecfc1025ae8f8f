namespace RegistryKit.Tests;

public partial class ServiceUrlTests
{
    private static bool Match(string consumer, string provider) =>
        ServiceUrl.Parse(consumer).Matches(ServiceUrl.Parse(provider));

    [TestCase("consumer://c/com.A", "dubbo://p:1/com.A", true)]
    [TestCase("consumer://c/com.A", "dubbo://p:1/com.B", false)]
    [TestCase("consumer://c/*", "dubbo://p:1/com.B", true)]
    [TestCase("consumer://c/x?interface=*", "dubbo://p:1/com.B", true)]
    [TestCase("consumer://c/com.A", "dubbo://p:1/path?interface=com.A", true)]
    public void Matches_Interface_EqualOrWildcard(string consumer, string provider, bool expected)
    {
        Assert.That(Match(consumer, provider), Is.EqualTo(expected));
    }

    [TestCase("", "providers", true)]
    [TestCase("", "routers", false)]
    [TestCase("?category=routers", "routers", true)]
    [TestCase("?category=providers,routers", "routers", true)]
    [TestCase("?category=providers,routers", "configurators", false)]
    [TestCase("?category=*", "configurators", true)]
    [TestCase("?category=-routers", "providers", true)]
    [TestCase("?category=-routers", "routers", false)]
    [TestCase("?category=-routers,-configurators", "configurators", false)]
    [TestCase("?category=providersX", "providers", false)]
    public void Matches_Category_ListWildcardAndExclusions(string consumerQuery, string providerCategory, bool expected)
    {
        Assert.That(Match("consumer://c/com.A" + consumerQuery, "dubbo://p:1/com.A?category=" + providerCategory), Is.EqualTo(expected));
    }

    [TestCase("", "", true)]
    [TestCase("", "?enabled=false", false)]
    [TestCase("?enabled=*", "?enabled=false", true)]
    [TestCase("?enabled=true", "?enabled=false", false)]
    public void Matches_DisabledProvider_OnlyForEnabledWildcard(string consumerQuery, string providerQuery, bool expected)
    {
        Assert.That(Match("consumer://c/com.A" + consumerQuery, "dubbo://p:1/com.A" + providerQuery), Is.EqualTo(expected));
    }

    [TestCase("", "", true)]
    [TestCase("?group=a", "?group=a", true)]
    [TestCase("?group=a", "", false)]
    [TestCase("", "?group=a", false)]
    [TestCase("?group=*", "?group=a", true)]
    [TestCase("?group=a,b", "?group=b", true)]
    [TestCase("?group=a,%20b", "?group=b", true)]
    [TestCase("?group=ab", "?group=a", false)]
    [TestCase("?group=a,b", "?group=c", false)]
    public void Matches_Group_WildcardEqualOrListMember(string consumerQuery, string providerQuery, bool expected)
    {
        Assert.That(Match("consumer://c/com.A" + consumerQuery, "dubbo://p:1/com.A" + providerQuery), Is.EqualTo(expected));
    }

    [TestCase("", "", true)]
    [TestCase("?version=1.0", "?version=1.0", true)]
    [TestCase("?version=1.0", "?version=2.0", false)]
    [TestCase("?version=*", "?version=2.0", true)]
    [TestCase("?version=1.0", "", false)]
    public void Matches_Version_WildcardOrEqual(string consumerQuery, string providerQuery, bool expected)
    {
        Assert.That(Match("consumer://c/com.A" + consumerQuery, "dubbo://p:1/com.A" + providerQuery), Is.EqualTo(expected));
    }

    [TestCase("", "?classifier=x", true)]
    [TestCase("?classifier=*", "?classifier=x", true)]
    [TestCase("?classifier=x", "?classifier=x", true)]
    [TestCase("?classifier=x", "?classifier=y", false)]
    [TestCase("?classifier=x", "", false)]
    public void Matches_Classifier_AbsentWildcardOrEqual(string consumerQuery, string providerQuery, bool expected)
    {
        Assert.That(Match("consumer://c/com.A" + consumerQuery, "dubbo://p:1/com.A" + providerQuery), Is.EqualTo(expected));
    }

    [Test]
    public void Matches_Null_Throws()
    {
        Assert.That(() => ServiceUrl.Parse("consumer://c/com.A").Matches(null!), Throws.ArgumentNullException);
    }
}
