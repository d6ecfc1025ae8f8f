using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace RegistryKit.Registry;

/// <summary>
/// Delivers one listener's notifications in order, one at a time, off the caller's thread, so a slow listener
/// delays only itself.
/// </summary>
/// <remarks>
/// The mailbox keeps the latest list per category: a list superseded before the listener got to it is dropped, since
/// every list is complete. Its size is therefore bounded by the number of categories.
/// </remarks>
internal sealed class ListenerPump : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<(string Category, IReadOnlyList<ServiceUrl> Urls)> _pending = [];
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    // Set on the delivery loop's flow, so that a listener that unsubscribes (or disposes the registry) from inside its
    // own NotifyAsync is recognised and not made to wait for itself.
    private static readonly AsyncLocal<ListenerPump?> s_delivering = new();

    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly Action _onDelivered;
    private Task? _loop;

    public ListenerPump(INotifyListener listener, ILogger logger, Action onDelivered)
    {
        Listener = listener;
        _logger = logger;
        _onDelivered = onDelivered;
    }

    public INotifyListener Listener { get; }

    public void Start() => _loop = Task.Run(RunAsync);

    public void Enqueue(string category, IReadOnlyList<ServiceUrl> urls)
    {
        lock (_lock)
        {
            int index = _pending.FindIndex(entry => entry.Category == category);
            if (index >= 0)
            {
                _pending[index] = (category, urls);
            }
            else
            {
                _pending.Add((category, urls));
            }
        }

        _signal.Writer.TryWrite(true);
    }

    /// <summary>
    /// Stops delivery: a list being delivered is cancelled, queued ones are dropped. Waits at most
    /// <paramref name="timeout"/> for the listener to return, and not at all when called from the listener itself.
    /// </summary>
    public async ValueTask StopAsync(TimeSpan timeout, TimeProvider timeProvider)
    {
        _signal.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is null || ReferenceEquals(s_delivering.Value, this))
        {
            return;
        }

        try
        {
            await _loop.WaitAsync(timeout, timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            FailbackRegistry.Log.ListenerStopTimedOut(_logger, timeout);
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => StopAsync(Timeout.InfiniteTimeSpan, TimeProvider.System);

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A listener's exception must not stop delivery; it is logged.")]
    private async Task RunAsync()
    {
        s_delivering.Value = this;
        CancellationToken token = _stopping.Token;
        try
        {
            while (await _signal.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                _signal.Reader.TryRead(out _);
                while (TryTakeNext(out IReadOnlyList<ServiceUrl>? urls))
                {
                    try
                    {
                        await Listener.NotifyAsync(urls, token).ConfigureAwait(false);
                        _onDelivered();
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception exception)
                    {
                        FailbackRegistry.Log.ListenerFailed(_logger, exception);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private bool TryTakeNext([NotNullWhen(true)] out IReadOnlyList<ServiceUrl>? urls)
    {
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                urls = null;
                return false;
            }

            urls = _pending[0].Urls;
            _pending.RemoveAt(0);
            return true;
        }
    }
}
