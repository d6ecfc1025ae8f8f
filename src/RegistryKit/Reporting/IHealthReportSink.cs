namespace RegistryKit.Reporting;

/// <summary>Where a <see cref="HealthReporter"/> sends each report it produces, such as a server's endpoint or an <see cref="UploadQueue{T}"/>.</summary>
public interface IHealthReportSink
{
    /// <summary>Sends one report. Never called again while a send is still running.</summary>
    /// <param name="report">The report.</param>
    /// <param name="cancellationToken">Cancelled when the reporter is disposed.</param>
    /// <returns>A task that completes when the report was sent; a failure is logged and counted.</returns>
    ValueTask SendAsync(HealthReport report, CancellationToken cancellationToken);
}
