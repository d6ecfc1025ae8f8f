using RegistryKit.Reporting;

namespace RegistryKit.Samples.CustomTransport.Worker;

/// <summary>The worker's own figures in its health reports: here, how many jobs it ran. A real worker reports its queue, its slots.</summary>
internal sealed class WorkerMetrics : IHealthMetricsSource
{
    private long _jobsRun;

    public void JobRan() => Interlocked.Increment(ref _jobsRun);

    public void Collect(IDictionary<string, double> metrics) => metrics["jobs.run"] = Interlocked.Read(ref _jobsRun);
}
