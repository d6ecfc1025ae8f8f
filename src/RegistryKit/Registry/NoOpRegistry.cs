namespace RegistryKit.Registry;

/// <summary>What a destroyed <see cref="RegistryFactory"/> hands out: accepts every call and does nothing.</summary>
internal sealed class NoOpRegistry(ServiceUrl url) : IRegistry
{
    public ServiceUrl Url { get; } = url;

    public bool IsAvailable => false;

    public ValueTask RegisterAsync(ServiceUrl url, CancellationToken cancellationToken = default) => Validate(url);

    public ValueTask UnregisterAsync(ServiceUrl url, CancellationToken cancellationToken = default) => Validate(url);

    public ValueTask SubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default) => Validate(url);

    public ValueTask UnsubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default) => Validate(url);

    public ValueTask<IReadOnlyList<ServiceUrl>> LookupAsync(ServiceUrl url, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        return ValueTask.FromResult<IReadOnlyList<ServiceUrl>>([]);
    }

    public RegistryStatus GetStatus() => new(false, default, 0, 0, 0, 0);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static ValueTask Validate(ServiceUrl url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return ValueTask.CompletedTask;
    }
}
