namespace RegistryKit.Samples.WorkerService;

/// <summary>Settings of <see cref="RegistryStatusLogger"/> (section <c>StatusLog</c>).</summary>
internal sealed class StatusLogOptions
{
    /// <summary>Gets or sets how often the health and the <c>RegistryKit</c> metrics are logged.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);
}
