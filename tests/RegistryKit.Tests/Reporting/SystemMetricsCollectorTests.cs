using RegistryKit.Reporting;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Reporting;

public class SystemMetricsCollectorTests
{
    private ManualTimeProvider _time = null!;
    private FakeSystemProbe _probe = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _probe = new FakeSystemProbe { ProcessorTime = TimeSpan.FromSeconds(10) };
    }

    [Test]
    public void Collect_FirstSample_CpuLoadIsUnknown()
    {
        SystemMetrics metrics = Create().Collect();

        Assert.That(metrics.CpuLoad, Is.EqualTo(SystemMetrics.UnknownCpuLoad));
    }

    [Test]
    public void Collect_CpuLoad_IsCpuTimeUsedOverVirtualTimeElapsed()
    {
        SystemMetricsCollector collector = Create();
        collector.Collect();

        _time.Advance(TimeSpan.FromSeconds(2));
        _probe.ProcessorTime += TimeSpan.FromSeconds(3);
        double first = collector.Collect().CpuLoad;
        _time.Advance(TimeSpan.FromSeconds(4));
        _probe.ProcessorTime += TimeSpan.FromSeconds(1);
        double second = collector.Collect().CpuLoad;

        Assert.That(first, Is.EqualTo(1.5), "3 s of CPU in 2 s: one and a half cores");
        Assert.That(second, Is.EqualTo(0.25), "measured from the previous sample, not from the first");
    }

    [Test]
    public void Collect_TwiceAtTheSameInstant_KeepsTheLoadAndTheBaseline()
    {
        SystemMetricsCollector collector = Create();
        collector.Collect();
        _time.Advance(TimeSpan.FromSeconds(2));
        _probe.ProcessorTime += TimeSpan.FromSeconds(3);
        collector.Collect();

        _probe.ProcessorTime += TimeSpan.FromSeconds(1);
        double sameInstant = collector.Collect().CpuLoad;
        _time.Advance(TimeSpan.FromSeconds(2));
        _probe.ProcessorTime += TimeSpan.FromSeconds(1);
        double later = collector.Collect().CpuLoad;

        Assert.That(sameInstant, Is.EqualTo(1.5));
        Assert.That(later, Is.EqualTo(1.0), "2 s of CPU since the sample 2 s ago; the one at the same instant moved no baseline");
    }

    [Test]
    public void Collect_MemoryAndProcessors_ComeFromTheProbe()
    {
        _probe.ProcessorCount = 3;
        _probe.WorkingSetBytes = 123_456_789;
        _probe.MemoryLimitBytes = 987_654_321;

        SystemMetrics metrics = Create().Collect();

        Assert.That(metrics.ProcessorCount, Is.EqualTo(3));
        Assert.That(metrics.MemoryUsedBytes, Is.EqualTo(123_456_789));
        Assert.That(metrics.MemoryLimitBytes, Is.EqualTo(987_654_321));
    }

    [Test]
    public void Collect_DiskPath_ReportsItsFileSystem()
    {
        _probe.Disk = (300, 1000);

        SystemMetrics metrics = Create("/data").Collect();

        Assert.That(_probe.DiskPathsAsked, Is.EqualTo(new[] { "/data" }));
        Assert.That(metrics.DiskUsedBytes, Is.EqualTo(300));
        Assert.That(metrics.DiskTotalBytes, Is.EqualTo(1000));
    }

    [Test]
    public void Collect_NoDiskPath_DiskIsNullAndNotRead()
    {
        _probe.Disk = (300, 1000);

        SystemMetrics metrics = Create().Collect();

        Assert.That(metrics.DiskUsedBytes, Is.Null);
        Assert.That(metrics.DiskTotalBytes, Is.Null);
        Assert.That(_probe.DiskPathsAsked, Is.Empty);
    }

    [Test]
    public void Collect_DiskUnreadable_DiskIsNull()
    {
        _probe.Disk = null;

        SystemMetrics metrics = Create("/data").Collect();

        Assert.That(metrics.DiskUsedBytes, Is.Null);
        Assert.That(metrics.DiskTotalBytes, Is.Null);
    }

    [TestCase("")]
    [TestCase("  ")]
    public void Constructor_BlankDiskPath_ThrowsNamingIt(string path)
    {
        var exception = Assert.Throws<ArgumentException>(() => new SystemMetricsCollector(path));

        Assert.That(exception!.ParamName, Is.EqualTo("diskPath"));
    }

    [Test]
    public void Collect_RealProcess_MemoryLimitFollowsALimitImposedOnTheRuntime()
    {
        // The test project sets System.GC.HeapHardLimit to 8 GiB, as a container's cgroup limit would cap the runtime;
        // the machine has more, so a collector that read physical memory would report more.
        var metrics = new SystemMetricsCollector().Collect();

        Assert.That(metrics.MemoryLimitBytes, Is.EqualTo(8L << 30));
    }

    [Test]
    public void Collect_RealProcess_MemoryLimitIsTheRuntimesView()
    {
        SystemMetrics metrics = new SystemMetricsCollector().Collect();

        Assert.That(metrics.MemoryLimitBytes, Is.Positive);
        Assert.That(metrics.MemoryLimitBytes, Is.LessThanOrEqualTo(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes));
        Assert.That(metrics.MemoryUsedBytes, Is.Positive);
        Assert.That(metrics.ProcessorCount, Is.EqualTo(Environment.ProcessorCount));
    }

    [Test]
    public void Collect_RealProcess_TempDirectoryHasADisk()
    {
        SystemMetrics metrics = new SystemMetricsCollector(Path.GetTempPath()).Collect();

        Assert.That(metrics.DiskTotalBytes, Is.Positive);
        Assert.That(metrics.DiskUsedBytes, Is.InRange(0, metrics.DiskTotalBytes!.Value));
    }

    [Test]
    public void Collect_RealProcess_MissingPath_DiskIsNullWithoutThrowing()
    {
        string missing = Path.Combine(Path.GetTempPath(), "registrykit-tests", Guid.NewGuid().ToString("N"), "nowhere");
        var collector = new SystemMetricsCollector(missing);

        SystemMetrics metrics = default;
        Assert.DoesNotThrow(() => metrics = collector.Collect());
        Assert.That(metrics.DiskTotalBytes, Is.Null);
        Assert.That(metrics.DiskUsedBytes, Is.Null);
    }

    [Test]
    public void Collect_RealProcess_CpuLoadIsMeasuredAgainstTheTimeProvider()
    {
        // The process burns real CPU time while virtual time stands still between the two samples, then moves an
        // hour: the load is real CPU over virtual time, so tiny, and never negative.
        var collector = new SystemMetricsCollector(timeProvider: _time);
        collector.Collect();
        _time.Advance(TimeSpan.FromHours(1));

        double load = collector.Collect().CpuLoad;

        Assert.That(load, Is.InRange(0.0, 0.1));
    }

    private SystemMetricsCollector Create(string? diskPath = null) => new(_probe, diskPath, _time);
}
