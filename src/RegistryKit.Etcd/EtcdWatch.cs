using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RegistryKit.Etcd.Wire;
using RegistryKit.Transport;

namespace RegistryKit.Etcd;

/// <summary>
/// One subscription: a listing, then a watch stream from the listing's revision + 1, and a full snapshot after every
/// event batch. A dropped stream resumes from the last revision seen + 1, silently; a compacted revision lists again.
/// Only a failure no retry can fix, or <see cref="EtcdDefaults.WatchMaxConsecutiveFailures"/> failed reconnects in a
/// row, end it with <see cref="ITransportWatcher.OnLost"/>.
/// </summary>
internal sealed partial class EtcdWatch : IAsyncDisposable
{
    private readonly EtcdClient _client;
    private readonly byte[] _prefix;
    private readonly byte[] _rangeEnd;
    private readonly ITransportWatcher _watcher;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _description;
    private readonly CancellationTokenSource _stop = new();

    // Touched only by the one task that runs the watch (and by StartAsync before it starts).
    private readonly Dictionary<string, string> _entries = new(StringComparer.Ordinal);
    private long _revision;
    private Task _loop = Task.CompletedTask;
    private int _disposed;
    private int _lost;

    private EtcdWatch(EtcdClient client, byte[] prefix, ITransportWatcher watcher, TimeProvider timeProvider, ILogger logger)
    {
        _client = client;
        _prefix = prefix;
        _rangeEnd = EtcdKeys.RangeEndOf(prefix);
        _watcher = watcher;
        _timeProvider = timeProvider;
        _logger = logger;
        _description = Encoding.UTF8.GetString(prefix);
    }

    /// <summary>Lists, delivers the first snapshot and starts watching. A failure to list is the caller's.</summary>
    public static async Task<EtcdWatch> StartAsync(EtcdClient client, byte[] prefix, ITransportWatcher watcher, TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken)
    {
        var watch = new EtcdWatch(client, prefix, watcher, timeProvider, logger);
        await watch.ListAsync(cancellationToken).ConfigureAwait(false);
        watch._loop = Task.Run(() => watch.RunAsync(watch._stop.Token), CancellationToken.None);
        return watch;
    }

    /// <summary>
    /// Starts watching from <paramref name="lastSeenRevision"/> + 1 without listing first, as the loop does after a
    /// dropped stream: for tests of the resume path (a revision compacted meanwhile).
    /// </summary>
    internal static EtcdWatch Resume(EtcdClient client, byte[] prefix, ITransportWatcher watcher, TimeProvider timeProvider, ILogger logger, long lastSeenRevision)
    {
        var watch = new EtcdWatch(client, prefix, watcher, timeProvider, logger) { _revision = lastSeenRevision };
        watch._loop = Task.Run(() => watch.RunAsync(watch._stop.Token), CancellationToken.None);
        return watch;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Cancelling closes the response, and closing it cancels the watch in etcd.
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Whatever ends the loop must reach the watcher as OnLost, never a silently faulted task.")]
    private async Task RunAsync(CancellationToken cancellationToken)
    {
        int failures = 0;
        bool relist = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (relist)
                {
                    await ListAsync(cancellationToken).ConfigureAwait(false);
                    relist = false;
                }

                relist = await StreamAsync(() => failures = 0, cancellationToken).ConfigureAwait(false);
                if (!relist)
                {
                    throw new RegistryTransportException("The etcd watch stream ended.");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                failures++;
                if (failures > EtcdDefaults.WatchMaxConsecutiveFailures)
                {
                    Lose(e);
                    return;
                }

                TimeSpan delay = RetryDelay(failures);
                Log.WatchDropped(_logger, _description, _revision + 1, delay, e.Message);
                try
                {
                    await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception e)
            {
                // Not transient (a refused request, a broken watcher, an unexpected failure): the engine subscribes again.
                Lose(e);
                return;
            }
        }
    }

    /// <summary>Reads one watch stream until it breaks; returns <see langword="true"/> when the start revision was compacted.</summary>
    private async Task<bool> StreamAsync(Action created, CancellationToken cancellationToken)
    {
        var request = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = _prefix, RangeEnd = _rangeEnd, StartRevision = _revision + 1 } };
        int tokenVersion = _client.TokenVersion;
        using HttpResponseMessage response = await _client.OpenStreamAsync("watch", request, EtcdJsonContext.Default.WatchRequest, cancellationToken).ConfigureAwait(false);
        using Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new BoundedLineReader(stream, EtcdDefaults.MaxWatchLineChars);

        // A member that hangs or is cut off keeps the stream open and silent: probe it, and move on when it stops answering.
        using var streamStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Uri endpoint = new(response.RequestMessage!.RequestUri!, "/");
        Task probing = ProbeWhileOpenAsync(endpoint, streamStop);
        try
        {
            return await ReadStreamAsync(reader, created, tokenVersion, streamStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryTransportException($"The etcd member {endpoint.Authority} stopped answering; the watch of '{_description}' moves to another.");
        }
        finally
        {
            await streamStop.CancelAsync().ConfigureAwait(false);
            await probing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Probes the stream's member every <see cref="EtcdDefaults.WatchProbeInterval"/>; cancels the stream when it does not answer.</summary>
    private async Task ProbeWhileOpenAsync(Uri endpoint, CancellationTokenSource streamStop)
    {
        CancellationToken token = streamStop.Token;
        while (true)
        {
            await Task.Delay(EtcdDefaults.WatchProbeInterval, _timeProvider, token).ConfigureAwait(false);
            if (!await _client.ProbeAsync(endpoint, token).ConfigureAwait(false))
            {
                await streamStop.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    private async Task<bool> ReadStreamAsync(BoundedLineReader reader, Action created, int tokenVersion, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            WatchLine? parsed = JsonSerializer.Deserialize(line, EtcdJsonContext.Default.WatchLine);

            // The gateway reports a failure mid-stream (etcd shutting down) as a line under the HTTP 200 it already sent.
            if (parsed?.Error is { } error)
            {
                throw EtcdErrors.FromStreamError("watch", error);
            }

            if (parsed?.Result is not { } result)
            {
                continue;
            }

            if (result.Created)
            {
                // A cluster restarted on an empty data directory counts revisions from 1 again: resuming would wait for
                // revisions it has not reached and miss what happens meanwhile. Only a new subscription can start over.
                if (result.Header is { Revision: > 0 } header && header.Revision < _revision)
                {
                    throw new RegistryTransportException(
                        string.Create(
                            CultureInfo.InvariantCulture,
                            $"etcd's revision went back from {_revision} to {header.Revision}: the cluster lost its data (restarted on an empty data directory?). The watch of '{_description}' must start over."),
                        isTransient: false);
                }

            }

            if (result.Canceled)
            {
                if (result.CompactRevision > 0)
                {
                    Log.WatchCompacted(_logger, _description, _revision + 1, result.CompactRevision);
                    return true;
                }

                // An expired token cancels a watch under HTTP 200 (no 401 to re-authenticate on): authenticate again
                // and reconnect; this counts as a failed attempt, so a token that never works ends in OnLost.
                if (_client.HasUser && result.CancelReason is { } reason
                    && (reason.Contains("Unauthenticated", StringComparison.OrdinalIgnoreCase) || reason.Contains("auth token", StringComparison.OrdinalIgnoreCase)))
                {
                    await _client.ReauthenticateAsync(tokenVersion, cancellationToken).ConfigureAwait(false);
                    throw new RegistryTransportException($"etcd canceled the watch of '{_description}' for an expired token; authenticated again.");
                }

                // Anything else (permission denied, say) no reconnect fixes.
                throw new RegistryTransportException($"etcd canceled the watch of '{_description}': {result.CancelReason}", isTransient: false);
            }

            if (result.Created)
            {
                // Only a stream etcd accepted resets the count of failed reconnects.
                created();
            }

            if (result.Events is { Count: > 0 } events)
            {
                Apply(events);
            }
        }

        return false;
    }

    private void Apply(List<WatchEvent> events)
    {
        long revision = _revision;
        foreach (WatchEvent change in events)
        {
            if (change.Kv?.Key is not { } key)
            {
                continue;
            }

            string name = Convert.ToBase64String(key);
            if (change.Type == "DELETE")
            {
                _entries.Remove(name);
            }
            else
            {
                _entries[name] = Encoding.UTF8.GetString(change.Kv.Value ?? []);
            }

            revision = Math.Max(revision, change.Kv.ModRevision);
        }

        Deliver(revision);
    }

    private async Task ListAsync(CancellationToken cancellationToken)
    {
        RangeResponse listed = await _client.RangePrefixAsync(_prefix, cancellationToken).ConfigureAwait(false);
        _entries.Clear();
        foreach (KeyValue kv in listed.Kvs ?? [])
        {
            _entries[Convert.ToBase64String(kv.Key ?? [])] = Encoding.UTF8.GetString(kv.Value ?? []);
        }

        Deliver(listed.Header?.Revision ?? 0);
    }

    /// <summary>Hands the watcher the full view, unless it is not newer than the last one (snapshots never regress).</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A watcher that throws loses its watch; it must not kill the loop silently.")]
    private void Deliver(long revision)
    {
        if (revision <= _revision && _revision != 0)
        {
            return;
        }

        _revision = revision;
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            _watcher.OnSnapshot(new TransportSnapshot(revision, [.. _entries.Values]));
        }
        catch (Exception e)
        {
            // The contract: a watcher that throws loses its watch, and is told so.
            Log.WatcherFailed(_logger, _description, e);
            _stop.Cancel();
            Lose(e);
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A watcher whose OnLost throws has nothing further to be told.")]
    private void Lose(Exception reason)
    {
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _lost, 1) != 0)
        {
            return;
        }

        Log.WatchLost(_logger, _description, reason.Message);
        try
        {
            _watcher.OnLost(reason);
        }
        catch (Exception e)
        {
            Log.WatcherFailed(_logger, _description, e);
        }
    }

    private static bool IsTransient(Exception e) =>
        e is RegistryTransportException { IsTransient: true } or HttpRequestException or IOException or JsonException;

    private static TimeSpan RetryDelay(int failures)
    {
        double ticks = EtcdDefaults.WatchFirstRetryDelay.Ticks * Math.Pow(2, Math.Min(failures - 1, 16));
        return TimeSpan.FromTicks((long)Math.Min(ticks, EtcdDefaults.WatchMaxRetryDelay.Ticks));
    }
}
