using RegistryKit.Reporting;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Reporting;

public class SystemMetricsTests
{
    // (limit GiB − used GiB) × 2 + (processors − load), truncated toward zero.
    [TestCase(8.0, 2.0, 4, 1.5, 14, TestName = "ComputeScore_WorkedExample_Is14")]
    [TestCase(3.0, 0.75, 2, 0.25, 6, TestName = "ComputeScore_FractionsOfAGibibyte_Count")]
    [TestCase(1.0, 1.0, 2, 3.5, -1, TestName = "ComputeScore_Overloaded_TruncatesTowardZero")]
    [TestCase(8.0, 2.0, 4, 0.0, 16, TestName = "ComputeScore_IdleProcessors_CountOneEach")]
    public void ComputeScore_PowerJobsFormula(double limitGiB, double usedGiB, int processors, double load, int expected)
    {
        int score = SystemMetrics.ComputeScore(ToBytes(limitGiB), ToBytes(usedGiB), processors, load);

        Assert.That(score, Is.EqualTo(expected));
    }

    [Test]
    public void ComputeScore_UnknownLoad_CpuPartIsOne()
    {
        // 6 × 2 + 1; taking processors − (−1) would give 17.
        int score = SystemMetrics.ComputeScore(8 * FakeSystemProbe.GiB, 2 * FakeSystemProbe.GiB, 4, SystemMetrics.UnknownCpuLoad);

        Assert.That(score, Is.EqualTo(13));
    }

    [Test]
    public void Score_IsTheFormulaOfItsOwnFields()
    {
        var metrics = new SystemMetrics { ProcessorCount = 4, CpuLoad = 1.5, MemoryLimitBytes = 8 * FakeSystemProbe.GiB, MemoryUsedBytes = 2 * FakeSystemProbe.GiB };

        Assert.That(metrics.Score, Is.EqualTo(14));
    }

    private static long ToBytes(double gib) => (long)(gib * FakeSystemProbe.GiB);
}
