namespace RegistryKit.Etcd.Tests;

public class EtcdKeysTests
{
    [TestCase(new byte[] { 0x61, 0x62 }, new byte[] { 0x61, 0x63 })]
    [TestCase(new byte[] { 0x61, 0xFF }, new byte[] { 0x62 })]
    [TestCase(new byte[] { 0xFF, 0xFF }, new byte[] { 0x00 })]
    public void RangeEndOf_CoversThePrefix(byte[] prefix, byte[] expected)
    {
        Assert.That(EtcdKeys.RangeEndOf(prefix), Is.EqualTo(expected));
    }

    [Test]
    public void KeyOf_EscapesEachPartUnderTheRoot()
    {
        var keys = new EtcdKeys("/registrykit");
        ServiceUrl url = ServiceUrl.Create("dubbo", "10.0.0.1", 1, parameters: [new(ServiceUrlKeys.Interface, "a/b")]);

        string key = System.Text.Encoding.UTF8.GetString(keys.KeyOf(url));

        Assert.That(key, Does.StartWith("/registrykit/a%2Fb/providers/dubbo%3A%2F%2F10.0.0.1%3A1"));
    }

    [Test]
    public void PrefixOf_Wildcard_IsTheWholeRoot()
    {
        var keys = new EtcdKeys("/registrykit/");

        string prefix = System.Text.Encoding.UTF8.GetString(keys.PrefixOf(EtcdRegistryTransportTests.Subscription("*")));

        Assert.That(prefix, Is.EqualTo("/registrykit/"));
    }
}
