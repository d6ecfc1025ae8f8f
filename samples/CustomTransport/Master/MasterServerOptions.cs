namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>Settings of a <see cref="MasterServer"/>.</summary>
internal sealed class MasterServerOptions
{
    /// <summary>Gets or sets the loopback port to listen on.</summary>
    /// <value>The default is 0: a free port, read back from <see cref="MasterServer.Address"/>.</value>
    public int Port { get; set; }

    /// <summary>Gets or sets whether this master is a standby: it answers registrations with "standby".</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool Standby { get; set; }

    /// <summary>Gets or sets the shortest session TTL granted; shorter requests are raised to it.</summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan MinSessionTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest session TTL granted; longer requests are lowered to it.</summary>
    /// <value>The default is 1 hour.</value>
    public TimeSpan MaxSessionTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets how long a worker stays known without a heartbeat (Spark's <c>spark.worker.timeout</c>).</summary>
    /// <value>The default is 60 seconds.</value>
    public TimeSpan WorkerTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets the most entries, sessions and watches the master holds, each.</summary>
    /// <value>The default is 10,000.</value>
    public int MaxItems { get; set; } = 10_000;

    /// <summary>Gets or sets the longest key or value accepted, in characters.</summary>
    /// <value>The default is 16,384.</value>
    public int MaxLength { get; set; } = 16_384;

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65_535);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MinSessionTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSessionTtl, MinSessionTtl);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WorkerTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxItems);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxLength);
    }
}
