using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using RegistryKit.Etcd.Wire;
using RegistryKit.Transport;

namespace RegistryKit.Etcd;

/// <summary>
/// One etcd cluster over the JSON gateway: every call is an HTTP/1.1 POST to <c>/v3/…</c> with a timeout, fails over
/// to the next endpoint when one cannot be reached, and authenticates (again, once, single-flight) when the cluster
/// asks for it.
/// </summary>
internal sealed partial class EtcdClient : IDisposable
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly HttpClient _http;
    private readonly Uri[] _endpoints;
    private readonly EtcdOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string? _username;
    private readonly string? _password;
    private readonly SemaphoreSlim _authGate = new(1, 1);
    private int _current;

    // Changed only under _authGate; read without it. _tokenVersion counts authentications, so that a caller whose
    // request failed with an old token knows whether someone else already fetched a new one.
    private volatile string? _token;
    private volatile bool _authDisabled;
    private int _tokenVersion;

    public EtcdClient(ServiceUrl registryUrl, EtcdOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _username = registryUrl.Username;
        _password = registryUrl.Password;
        string scheme = options.UseTls ? "https" : "http";
        _endpoints = [.. new[] { registryUrl.Address }.Concat(registryUrl.BackupAddresses).Select(a => ToEndpoint(scheme, a)
            ?? throw new ArgumentException($"'{RedactedEndpoint(a)}' is not an etcd endpoint. Use host:port, such as '127.0.0.1:2379'.", nameof(registryUrl)))];
        _http = new HttpClient(CreateHandler(options))
        {
            // The gateway speaks HTTP/1.1 only: h2c reaches etcd's gRPC server and fails.
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,

            // HttpClient.Timeout covers only the headers and would cut watches: each unary call has its own timeout.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Gets the endpoints, primary first, as <c>http(s)://host:port/</c> (never with credentials).</summary>
    public IReadOnlyList<Uri> Endpoints => _endpoints;

    /// <summary>Makes one unary call and reads its answer.</summary>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        string method,
        TRequest request,
        JsonTypeInfo<TRequest> requestInfo,
        JsonTypeInfo<TResponse> responseInfo,
        CancellationToken cancellationToken)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(request, requestInfo);
        Reply reply = await SendAuthenticatedAsync(method, body, cancellationToken).ConfigureAwait(false);
        string text = reply.Text!;
        try
        {
            return JsonSerializer.Deserialize(text, responseInfo) ?? throw new JsonException("The answer was null.");
        }
        catch (JsonException e)
        {
            throw new RegistryTransportException($"etcd answered '{method}' with JSON that does not fit its shape.", isTransient: true, e);
        }
    }

    /// <summary>Reads every key starting with <paramref name="prefix"/> (one <c>kv/range</c>).</summary>
    public Task<RangeResponse> RangePrefixAsync(byte[] prefix, CancellationToken cancellationToken) =>
        CallAsync(
            "kv/range",
            new RangeRequest { Key = prefix, RangeEnd = EtcdKeys.RangeEndOf(prefix) },
            EtcdJsonContext.Default.RangeRequest,
            EtcdJsonContext.Default.RangeResponse,
            cancellationToken);

    /// <summary>Opens a streamed call (a watch). The timeout covers only the answer's headers; the caller disposes the answer.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync<TRequest>(string method, TRequest request, JsonTypeInfo<TRequest> requestInfo, CancellationToken cancellationToken)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(request, requestInfo);
        Reply reply = await SendAuthenticatedAsync(method, body, cancellationToken, streaming: true).ConfigureAwait(false);
        return reply.Stream!;
    }

    /// <summary>
    /// Asks <paramref name="endpoint"/> alone whether it answers (any HTTP answer within <c>CallTimeout</c> counts). When
    /// it does not, calls start at the next endpoint from now on.
    /// </summary>
    /// <returns><see langword="false"/> when the member did not answer in time or refused the connection.</returns>
    public async Task<bool> ProbeAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.CallTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, "v3/maintenance/status"))
            {
                Content = new ByteArrayContent("{}"u8.ToArray()) { Headers = { ContentType = s_json } },
            };
            if (_token is { } token)
            {
                request.Headers.TryAddWithoutValidation("Authorization", token);
            }

            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            int index = Array.IndexOf(_endpoints, endpoint);
            if (index >= 0)
            {
                Interlocked.CompareExchange(ref _current, (index + 1) % _endpoints.Length, index);
            }

            Log.EndpointFailed(_logger, "maintenance/status", endpoint, e.Message);
            return false;
        }
    }

    /// <summary>Gets whether calls authenticate (the address names a user).</summary>
    public bool HasUser => _username is not null;

    /// <summary>Gets how many times a token was fetched; pass it to <see cref="ReauthenticateAsync"/>.</summary>
    public int TokenVersion => Volatile.Read(ref _tokenVersion);

    /// <summary>
    /// Fetches a new token for a stream etcd refused with the token of <paramref name="seenVersion"/>: once, one caller at
    /// a time, unless another caller already did.
    /// </summary>
    public Task ReauthenticateAsync(int seenVersion, CancellationToken cancellationToken) =>
        _username is null || _authDisabled ? Task.CompletedTask : AuthenticateAsync(seenVersion, cancellationToken);

    public void Dispose()
    {
        _http.Dispose();
        _authGate.Dispose();
    }

    private async Task<Reply> SendAuthenticatedAsync(string method, byte[] body, CancellationToken cancellationToken, bool streaming = false)
    {
        bool reauthenticated = false;
        while (true)
        {
            int version = Volatile.Read(ref _tokenVersion);
            if (_username is not null && _token is null && !_authDisabled)
            {
                await AuthenticateAsync(version, cancellationToken).ConfigureAwait(false);
                version = Volatile.Read(ref _tokenVersion);
            }

            Reply reply = await SendAsync(method, body, _token, streaming, cancellationToken).ConfigureAwait(false);
            if (reply.Status == HttpStatusCode.OK)
            {
                return reply;
            }

            // Tokens expire (5 minutes by default): the cluster answers 401 code 16. Authenticate again, once.
            if (reply.Status == HttpStatusCode.Unauthorized && _username is not null && !reauthenticated
                && EtcdErrors.Parse(reply.Text!).Code == EtcdErrors.Unauthenticated)
            {
                reauthenticated = true;
                await AuthenticateAsync(version, cancellationToken).ConfigureAwait(false);
                continue;
            }

            throw EtcdErrors.ToException(method, reply.Status, reply.Text!, reauthenticated);
        }
    }

    /// <summary>Fetches a token unless another caller already replaced the one of <paramref name="seenVersion"/>.</summary>
    private async Task AuthenticateAsync(int seenVersion, CancellationToken cancellationToken)
    {
        await _authGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _tokenVersion) != seenVersion)
            {
                return;
            }

            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new AuthenticateRequest { Name = _username, Password = _password }, EtcdJsonContext.Default.AuthenticateRequest);
            Reply reply = await SendAsync("auth/authenticate", body, token: null, streaming: false, cancellationToken).ConfigureAwait(false);
            if (reply.Status == HttpStatusCode.OK)
            {
                AuthenticateResponse? answer = JsonSerializer.Deserialize(reply.Text!, EtcdJsonContext.Default.AuthenticateResponse);
                _token = string.IsNullOrEmpty(answer?.Token)
                    ? throw new RegistryTransportException("etcd accepted the user but sent no token.", isTransient: false)
                    : answer.Token;
                Log.Authenticated(_logger, _username!);
            }
            else if (reply.Status == HttpStatusCode.PreconditionFailed && EtcdErrors.Parse(reply.Text!).Code == EtcdErrors.FailedPrecondition)
            {
                // Authentication is not enabled on the cluster: calls go without a token.
                _authDisabled = true;
                _token = null;
                Log.AuthenticationNotEnabled(_logger, _username!);
            }
            else
            {
                RegistryTransportException failure = EtcdErrors.ToException("auth/authenticate", reply.Status, reply.Text!);
                throw new RegistryTransportException(
                    $"Authenticating with etcd as '{_username}' failed. {failure.Message}",
                    failure.IsTransient,
                    failure);
            }

            Interlocked.Increment(ref _tokenVersion);
        }
        finally
        {
            _authGate.Release();
        }
    }

    /// <summary>Sends one request, trying each endpoint once (starting with the last that answered) when it cannot be reached.</summary>
    private async Task<Reply> SendAsync(string method, byte[] body, string? token, bool streaming, CancellationToken cancellationToken)
    {
        int start = Volatile.Read(ref _current);
        Exception? lastFailure = null;
        bool onlyTlsFailures = true;
        for (int attempt = 0; attempt < _endpoints.Length; attempt++)
        {
            int index = (start + attempt) % _endpoints.Length;
            using var timeout = new CancellationTokenSource(_options.CallTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            HttpResponseMessage? response = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_endpoints[index], "v3/" + method))
                {
                    Content = new ByteArrayContent(body) { Headers = { ContentType = s_json } },
                };
                if (token is not null)
                {
                    // etcd wants the raw token, not "Bearer <token>".
                    request.Headers.TryAddWithoutValidation("Authorization", token);
                }

                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                if (index != start)
                {
                    Interlocked.CompareExchange(ref _current, index, start);
                }

                if (streaming && response.StatusCode == HttpStatusCode.OK)
                {
                    Reply stream = new(response.StatusCode, null, response);
                    response = null;
                    return stream;
                }

                string text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
                return new Reply(response.StatusCode, text, null);
            }
            catch (HttpRequestException e)
            {
                lastFailure = e;
                onlyTlsFailures &= e.InnerException is System.Security.Authentication.AuthenticationException;
                Log.EndpointFailed(_logger, method, _endpoints[index], e.Message);
            }
            catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                onlyTlsFailures = false;
                lastFailure = new TimeoutException(
                    string.Create(CultureInfo.InvariantCulture, $"The call took longer than EtcdOptions.CallTimeout ({_options.CallTimeout.TotalSeconds:0.###} s)."),
                    e);
                Log.EndpointFailed(_logger, method, _endpoints[index], lastFailure.Message);
            }
            finally
            {
                response?.Dispose();
            }
        }

        // A TLS handshake every endpoint refused (an untrusted certificate, a missing client certificate) is configuration,
        // which no retry fixes.
        throw new RegistryTransportException(
            $"No etcd endpoint answered '{method}' ({string.Join(", ", _endpoints.Select(e => e.Authority))}): {lastFailure!.Message}" +
            (onlyTlsFailures ? " The TLS handshake failed: check EtcdOptions.CaCertificatePath and the client certificate." : string.Empty),
            isTransient: !onlyTlsFailures,
            lastFailure);
    }

    /// <summary>An endpoint as it may be shown: any user info (a password slipped into a backup address) masked.</summary>
    private static string RedactedEndpoint(string address)
    {
        int at = address.LastIndexOf('@');
        string shown = at < 0 ? address : "***@" + address[(at + 1)..];
        return string.Concat(shown.Take(200).Select(c => char.IsControl(c) ? '?' : c));
    }

    private static Uri? ToEndpoint(string scheme, string address)
    {
        string withPort = address.Contains(':', StringComparison.Ordinal) && !address.EndsWith(']')
            ? address
            : address + ":" + EtcdDefaults.Port.ToString(CultureInfo.InvariantCulture);
        return Uri.TryCreate($"{scheme}://{withPort}/", UriKind.Absolute, out Uri? uri) && uri.UserInfo.Length == 0
            ? uri
            : null;
    }

    private static SocketsHttpHandler CreateHandler(EtcdOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // Each open watch holds a connection (no multiplexing over HTTP/1.1): do not cap them.
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = options.CallTimeout,
            UseProxy = false,
        };
        if (!options.UseTls)
        {
            return handler;
        }

        if (options.ClientCertificatePath is not null)
        {
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(options.ClientCertificatePath, options.ClientKeyPath)];
        }

        if (options.CaCertificatePath is not null)
        {
            X509Certificate2Collection roots = [];
            roots.ImportFromPemFile(options.CaCertificatePath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, sent, errors) => TrustedByCustomRoot(certificate, sent, errors, roots);
        }

        return handler;
    }

    /// <summary>Validates a server certificate against the configured CA alone, keeping the host-name check.</summary>
    private static bool TrustedByCustomRoot(X509Certificate? certificate, X509Chain? sent, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);

        // The intermediates the server sent: a server certificate signed by an intermediate of the configured root.
        if (sent is not null)
        {
            foreach (X509ChainElement element in sent.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }

            chain.ChainPolicy.ExtraStore.AddRange(sent.ChainPolicy.ExtraStore);
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (certificate is X509Certificate2 server)
        {
            return chain.Build(server);
        }

        using X509Certificate2 copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(copy);
    }

    private readonly record struct Reply(HttpStatusCode Status, string? Text, HttpResponseMessage? Stream);
}
