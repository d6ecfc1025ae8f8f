using RegistryKit.Hosting;

namespace RegistryKit.Tests.Hosting;

public class ServiceRegistrationOptionsTests
{
    [Test]
    public void Defaults_ArePinned()
    {
        var options = new ServiceRegistrationOptions();

        Assert.That(options.Protocol, Is.EqualTo("http").And.EqualTo(ServiceRegistrationDefaults.Protocol));
        Assert.That(options.DeregisterTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)).And.EqualTo(ServiceRegistrationDefaults.DeregisterTimeout));
        Assert.That((options.Host, options.Port, options.Group, options.Version), Is.EqualTo(((string?)null, (int?)null, (string?)null, (string?)null)));
        Assert.That(options.Parameters, Is.Empty);
    }
}
