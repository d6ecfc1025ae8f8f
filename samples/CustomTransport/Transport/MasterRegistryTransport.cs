using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RegistryKit.Samples.CustomTransport.Master;
using RegistryKit.Transport;

namespace RegistryKit.Samples.CustomTransport.Transport;

/// <summary>
/// A client of one master: the <c>mymaster://</c> transport. Each call is one HTTP request, bounded by the call timeout
/// on the <see cref="TimeProvider"/>, and its failure is classified as the engine needs it (see
/// <see cref="IRegistryTransport"/>): the master's "session-unknown" is <see cref="RegistrySessionLostException"/>;
/// connection failures, timeouts, 5xx, 408 and 429 are transient; the master's other refusals are permanent.
/// </summary>
/// <remarks>
/// Keys are <c>/{root}/{service interface}/{category}/{full URL}</c>, each part percent-encoded, so <c>a/b</c> and
/// <c>a</c> are different services; a subscription reads and watches the prefix <c>/{root}/{service interface}/</c>, or
/// <c>/{root}/</c> for <c>*</c>. What the master answers is untrusted: a malformed answer to a call fails that call
/// (transient), and an entry that is not a string is skipped and counted in <see cref="MalformedEntries"/>.
/// </remarks>
internal sealed class MasterRegistryTransport : IRegistryTransport
{
    /// <summary>The longest answer read into memory (a whole snapshot); a watch line has the same bound.</summary>
    internal const int MaxAnswerBytes = 16 << 20;

    private readonly HttpClient _http;
    private readonly string _root;
    private readonly TimeSpan _callTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _lock = new();
    private readonly List<MasterWatch> _watches = [];
    private long _malformedEntries;
    private bool _disposed;

    public MasterRegistryTransport(Uri baseAddress, string root, HttpMessageHandler handler, TimeSpan callTimeout, TimeProvider timeProvider, ILogger logger)
    {
        // Timeouts are the transport's own, on the TimeProvider; a watch is a response that never ends.
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = MaxAnswerBytes };
        _root = "/" + Uri.EscapeDataString(root) + "/";
        _callTimeout = callTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Gets the entries skipped because they were not strings (in answers and watch lines), and watch lines that did not parse.</summary>
    public long MalformedEntries => Interlocked.Read(ref _malformedEntries);

    private string Master => _http.BaseAddress!.GetLeftPart(UriPartial.Authority);

    public async ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        JsonElement answer = await CallAsync(
            "opening a session", () => new HttpRequestMessage(HttpMethod.Post, "v1/sessions") { Content = JsonContent.Create(new SessionRequest((long)Math.Ceiling(ttl.TotalMilliseconds)), options: MasterJson.Options) }, cancellationToken);
        if (answer.ValueKind != JsonValueKind.Object
            || !answer.TryGetProperty("id", out JsonElement id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString())
            || !answer.TryGetProperty("ttlMs", out JsonElement ttlMs) || ttlMs.ValueKind != JsonValueKind.Number || !ttlMs.TryGetInt64(out long granted) || granted is < 1_000 or > 86_400_000)
        {
            throw Malformed("opening a session", "a session id and a TTL of 1 s to 1 day");
        }

        // A third of the TTL, as etcd's clients renew: two heartbeats may be lost before the session expires.
        TimeSpan grantedTtl = TimeSpan.FromMilliseconds(granted);
        return new RegistrySession(id.GetString()!, grantedTtl, grantedTtl / 3);
    }

    public async ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await CallAsync("a heartbeat", () => new HttpRequestMessage(HttpMethod.Post, $"v1/sessions/{Uri.EscapeDataString(session.Id)}/keepalive"), cancellationToken);
    }

    public async ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await CallAsync("closing a session", () => new HttpRequestMessage(HttpMethod.Delete, $"v1/sessions/{Uri.EscapeDataString(session.Id)}"), cancellationToken);
    }

    public async ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(url);
        var put = new PutRequest(session.Id, KeyOf(url), url.ToFullString());
        await CallAsync("a registration", () => new HttpRequestMessage(HttpMethod.Put, "v1/entries") { Content = JsonContent.Create(put, options: MasterJson.Options) }, cancellationToken);
    }

    public async ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(url);
        string key = KeyOf(url);

        // The session goes along so that the master removes the key only while it is on this session (fencing).
        await CallAsync(
            "an unregistration",
            () => new HttpRequestMessage(HttpMethod.Delete, $"v1/entries?key={Uri.EscapeDataString(key)}&session={Uri.EscapeDataString(session.Id)}"),
            cancellationToken);
    }

    public async ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        string prefix = PrefixOf(subscription);
        JsonElement answer = await CallAsync("a lookup", () => new HttpRequestMessage(HttpMethod.Get, $"v1/entries?prefix={Uri.EscapeDataString(prefix)}"), cancellationToken);
        return ReadSnapshot(answer) ?? throw Malformed("a lookup", "a revision and a list of entries");
    }

    public async ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(watcher);
        string prefix = PrefixOf(subscription);

        // Only the answer's headers are awaited (bounded by the call timeout): the body is the stream of snapshots.
        HttpResponseMessage response = await SendAsync(
            "a watch", () => new HttpRequestMessage(HttpMethod.Get, $"v1/watch?prefix={Uri.EscapeDataString(prefix)}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            await ThrowIfRefusedAsync(response, "a watch", cancellationToken);
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var watch = new MasterWatch(this, response, watcher, _disposing.Token);
                _watches.Add(watch);
                watch.Start();
                return watch;
            }
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        MasterWatch[] watches;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            watches = [.. _watches];
            _watches.Clear();
        }

        await _disposing.CancelAsync();
        foreach (MasterWatch watch in watches)
        {
            await watch.DisposeAsync();
        }

        _http.Dispose();
        _disposing.Dispose();
    }

    /// <summary>
    /// Reads a snapshot the master sent: <see langword="null"/> when its shape is wrong; entries that are not strings are
    /// skipped and counted.
    /// </summary>
    internal TransportSnapshot? ReadSnapshot(JsonElement answer)
    {
        if (answer.ValueKind != JsonValueKind.Object
            || !answer.TryGetProperty("revision", out JsonElement revision) || revision.ValueKind != JsonValueKind.Number || !revision.TryGetInt64(out long number) || number < 0
            || !answer.TryGetProperty("entries", out JsonElement entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var values = new List<string>(entries.GetArrayLength());
        foreach (JsonElement entry in entries.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.String)
            {
                values.Add(entry.GetString()!);
            }
            else
            {
                CountMalformed(1);
            }
        }

        return new TransportSnapshot(number, values);
    }

    internal void CountMalformed(long count) => Interlocked.Add(ref _malformedEntries, count);

    internal void Forget(MasterWatch watch)
    {
        lock (_lock)
        {
            _watches.Remove(watch);
        }
    }

    internal ILogger Logger => _logger;

    internal string KeyOf(ServiceUrl url) =>
        string.Concat(_root, Uri.EscapeDataString(url.ServiceInterface), "/", Uri.EscapeDataString(url.Category), "/", Uri.EscapeDataString(url.ToFullString()));

    private string PrefixOf(ServiceUrl subscription) =>
        subscription.ServiceInterface == ServiceUrlKeys.AnyValue
            ? _root
            : string.Concat(_root, Uri.EscapeDataString(subscription.ServiceInterface), "/");

    /// <summary>Makes one call and returns its JSON answer (<c>default</c> for an empty one), or throws the classified failure.</summary>
    private async Task<JsonElement> CallAsync(string what, Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(what, request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        await ThrowIfRefusedAsync(response, what, cancellationToken);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (body.Length == 0)
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw Malformed(what, "JSON");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string what, Func<HttpRequestMessage> request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var timeout = new CancellationTokenSource(_callTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _disposing.Token);
        using HttpRequestMessage message = request();
        try
        {
            return await _http.SendAsync(message, completion, linked.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(MasterRegistryTransport), $"The transport to '{Master}' was disposed during {what}.");
        }
        catch (OperationCanceledException failure) when (timeout.IsCancellationRequested)
        {
            throw new RegistryTransportException($"The master at '{Master}' did not answer {what} within {_callTimeout.TotalSeconds:0.###} s.", failure);
        }
        catch (HttpRequestException failure)
        {
            throw new RegistryTransportException($"The master at '{Master}' could not be reached for {what}: {failure.Message}", failure);
        }
    }

    private async Task ThrowIfRefusedAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string code = "";
        string message;
        string body = await ReadErrorBodyAsync(response, cancellationToken);
        try
        {
            ErrorMessage? error = JsonSerializer.Deserialize<ErrorMessage>(body, MasterJson.Options);
            code = error?.Code ?? "";
            message = error?.Message ?? "";
        }
        catch (JsonException)
        {
            message = body;
        }

        int status = (int)response.StatusCode;
        string text = $"The master at '{Master}' refused {what}: HTTP {status}{(code.Length > 0 ? $" ({Printable(code)})" : "")}: {Printable(message)}";
        if (code == MasterProtocol.SessionUnknown)
        {
            throw new RegistrySessionLostException(text);
        }

        bool transient = code is not (MasterProtocol.TooLarge or MasterProtocol.Full or MasterProtocol.BadRequest)
            && (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);
        throw new RegistryTransportException(text, transient);
    }

    private static async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            return "(no readable body)";
        }
    }

    private RegistryTransportException Malformed(string what, string expected) =>
        new($"The master at '{Master}' answered {what} with something other than {expected}.");

    /// <summary>Cuts what the master said to 200 characters and escapes control characters, so it cannot forge log lines.</summary>
    internal static string Printable(string text)
    {
        string cut = text.Length <= 200 ? text : text[..200] + "…";
        return cut.Any(char.IsControl) ? string.Concat(cut.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : cut;
    }
}
