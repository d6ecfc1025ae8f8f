using System.Text.Json;
using RegistryKit.Reporting;

namespace RegistryKit.Tests.Reporting;

public class HealthReportTests
{
    [Test]
    public void Json_RoundTrip_RebuildsTheReportOnTheReceiver()
    {
        var metrics = new SystemMetrics { ProcessorCount = 4, CpuLoad = 1.5, MemoryUsedBytes = 2L << 30, MemoryLimitBytes = 8L << 30, DiskUsedBytes = 10, DiskTotalBytes = 100 };
        var sent = new HealthReport(Guid.NewGuid(), 7, TimeSpan.FromMinutes(3), metrics, new Dictionary<string, double> { ["queue.depth"] = 12 });

        HealthReport received = JsonSerializer.Deserialize<HealthReport>(JsonSerializer.Serialize(sent))!;

        Assert.Multiple(() =>
        {
            Assert.That(received.Incarnation, Is.EqualTo(sent.Incarnation));
            Assert.That(received.Sequence, Is.EqualTo(7));
            Assert.That(received.Uptime, Is.EqualTo(TimeSpan.FromMinutes(3)));
            Assert.That(received.Metrics, Is.EqualTo(metrics));
            Assert.That(received.Score, Is.EqualTo(14));
            Assert.That(received.CustomMetrics["queue.depth"], Is.EqualTo(12));
        });
    }

    [Test]
    public void Constructor_SequenceBelowOne_ThrowsNamingIt()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new HealthReport(Guid.NewGuid(), 0, TimeSpan.Zero, default, null));

        Assert.That(exception!.ParamName, Is.EqualTo("sequence"));
    }

    [Test]
    public void Constructor_NoCustomMetrics_IsAnEmptyDictionary() =>
        Assert.That(new HealthReport(Guid.NewGuid(), 1, TimeSpan.Zero, default, null).CustomMetrics, Is.Empty);
}
