using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace RegistryKit.Registry;

/// <summary>Runs the <see cref="IRegistryServiceListener"/> hooks around a registry's operations.</summary>
internal sealed partial class ListeningRegistry(IRegistry inner, IReadOnlyList<IRegistryServiceListener> listeners, ILogger logger) : IRegistry
{
    public IRegistry Inner { get; } = inner;

    public ServiceUrl Url => Inner.Url;

    public bool IsAvailable => Inner.IsAvailable;

    public ValueTask RegisterAsync(ServiceUrl url, CancellationToken cancellationToken = default) =>
        RunAsync(url, () => Inner.RegisterAsync(url, cancellationToken), static (l, u, r) => l.OnRegister(u, r), skipForConsumer: true);

    public ValueTask UnregisterAsync(ServiceUrl url, CancellationToken cancellationToken = default) =>
        RunAsync(url, () => Inner.UnregisterAsync(url, cancellationToken), static (l, u, r) => l.OnUnregister(u, r), skipForConsumer: true);

    public ValueTask SubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default) =>
        RunAsync(url, () => Inner.SubscribeAsync(url, listener, cancellationToken), static (l, u, r) => l.OnSubscribe(u, r), skipForConsumer: false);

    public ValueTask UnsubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default) =>
        RunAsync(url, () => Inner.UnsubscribeAsync(url, listener, cancellationToken), static (l, u, r) => l.OnUnsubscribe(u, r), skipForConsumer: false);

    public ValueTask<IReadOnlyList<ServiceUrl>> LookupAsync(ServiceUrl url, CancellationToken cancellationToken = default) =>
        Inner.LookupAsync(url, cancellationToken);

    public RegistryStatus GetStatus() => Inner.GetStatus();

    public ValueTask DisposeAsync() => Inner.DisposeAsync();

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Every hook runs; their exceptions are collected and rethrown or logged.")]
    private async ValueTask RunAsync(ServiceUrl url, Func<ValueTask> operation, Action<IRegistryServiceListener, ServiceUrl, IRegistry> hook, bool skipForConsumer)
    {
        ArgumentNullException.ThrowIfNull(url);
        Exception? failure = null;
        try
        {
            await operation().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            failure = exception;
        }

        List<Exception>? hookFailures = null;
        if (!(skipForConsumer && url.IsConsumer))
        {
            foreach (IRegistryServiceListener listener in listeners)
            {
                try
                {
                    hook(listener, url, this);
                }
                catch (Exception exception)
                {
                    (hookFailures ??= []).Add(exception);
                }
            }
        }

        if (failure is not null)
        {
            foreach (Exception hookFailure in hookFailures ?? [])
            {
                LogHookFailed(logger, url, hookFailure);
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        if (hookFailures is not null)
        {
            throw new AggregateException($"{hookFailures.Count} registry listener hook(s) failed after the operation on '{url}' succeeded.", hookFailures);
        }
    }

    [LoggerMessage(EventId = 2050, EventName = "RegistryHookFailed", Level = LogLevel.Error,
        Message = "A registry listener hook failed after the operation on '{Url}' had failed too.")]
    private static partial void LogHookFailed(ILogger logger, ServiceUrl url, Exception exception);
}
