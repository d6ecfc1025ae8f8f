using Microsoft.Extensions.DependencyInjection;
using RegistryKit.Hosting;

namespace RegistryKit.Tests.Hosting;

public class RegistryHealthCheckOptionsTests
{
    [Test]
    public void Defaults_ArePinned()
    {
        var options = new RegistryHealthCheckOptions();

        Assert.That(options.UnhealthyAfter, Is.EqualTo(TimeSpan.FromSeconds(30)).And.EqualTo(RegistryHealthCheckDefaults.UnhealthyAfter));
        Assert.That(options.HeartbeatLateAfter, Is.Null);
        Assert.That(RegistryHealthCheckDefaults.LateAfterHeartbeatIntervals, Is.EqualTo(2));
    }

    [Test]
    public void HeartbeatLateAfter_NotPositive_ThrowsSayingWhatNullMeans()
    {
        IHealthChecksBuilder checks = new ServiceCollection().AddHealthChecks();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => checks.AddRegistryKit(configure: o => o.HeartbeatLateAfter = TimeSpan.Zero));

        Assert.That(error!.ParamName, Is.EqualTo("HeartbeatLateAfter"));
        Assert.That(error.Message, Does.Contain("RegistryHealthCheckOptions.HeartbeatLateAfter is 00:00:00; it must be positive, or null for two of the session's heartbeat intervals."));
    }
}
