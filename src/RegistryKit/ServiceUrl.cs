using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;
using RegistryKit.Internal;

namespace RegistryKit;

/// <summary>
/// An immutable address of a service, a consumer or a registry, in the form
/// <c>protocol://[user[:password]@]host[:port][/path][?name=value&amp;...]</c>.
/// Every registration and subscription is about one.
/// </summary>
/// <remarks>
/// <para>
/// Two URLs are equal when their protocol, credentials, host, port, path and parameters are equal; the order in
/// which parameters were written does not matter. The protocol and the host compare without regard to case; the
/// rest is case-sensitive.
/// </para>
/// <para>
/// <see cref="ToString"/> never shows a password, nor the value of a parameter whose name contains
/// <c>password</c>, <c>token</c>, <c>secret</c>, <c>credential</c> or <c>key</c>; use it for logs and messages.
/// <see cref="ToFullString"/> gives the complete form, for the wire only.
/// </para>
/// </remarks>
public sealed partial class ServiceUrl : IEquatable<ServiceUrl>
{
    /// <summary>
    /// The longest text <see cref="Parse"/> accepts: 64 KiB of characters, both as given and once percent-encoded by
    /// <see cref="ToFullString"/>, so that every URL it accepts parses back from its full form.
    /// </summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>The highest port number.</summary>
    public const int MaxPort = 65535;

    // Sorted by key (ordinal) so that equality and formatting do not depend on the order parameters were given in.
    private readonly KeyValuePair<string, string>[] _parameters;
    private ParameterView? _parameterView;
    private string? _serviceKey;
    private int _hashCode;

    private ServiceUrl(
        string protocol,
        string? username,
        string? password,
        string host,
        int port,
        string path,
        KeyValuePair<string, string>[] sortedParameters)
    {
        Protocol = protocol;
        Username = username;
        Password = password;
        Host = host;
        Port = port;
        Path = path;
        _parameters = sortedParameters;
    }

    /// <summary>Gets the protocol (the scheme), in lower case.</summary>
    public string Protocol { get; }

    /// <summary>Gets the user name, or <see langword="null"/> when the URL carries none.</summary>
    public string? Username { get; }

    /// <summary>Gets the password, or <see langword="null"/> when the URL carries none. Never shown by <see cref="ToString"/>.</summary>
    public string? Password { get; }

    /// <summary>Gets the host, in lower case, without brackets for an IPv6 address; empty when the URL has no host.</summary>
    public string Host { get; }

    /// <summary>Gets the port, or 0 when the URL has none.</summary>
    public int Port { get; }

    /// <summary>Gets the path without its leading slash, percent-decoded; empty when the URL has none.</summary>
    public string Path { get; }

    /// <summary>Gets the parameters, ordered by name.</summary>
    public IReadOnlyDictionary<string, string> Parameters => _parameterView ??= new ParameterView(_parameters);

    /// <summary>Gets <c>host:port</c> (IPv6 hosts in brackets), or the host alone when there is no port.</summary>
    public string Address
    {
        get
        {
            string host = FormatHost(Host);
            return Port == 0 ? host : string.Concat(host, ":", Port.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Gets the service interface: the <c>interface</c> parameter, or else the path.</summary>
    public string ServiceInterface => GetNonEmptyParameter(ServiceUrlKeys.Interface) ?? Path;

    /// <summary>Gets the service group, or <see langword="null"/> when none is given.</summary>
    public string? Group => GetNonEmptyParameter(ServiceUrlKeys.Group);

    /// <summary>Gets the service version, or <see langword="null"/> when none is given.</summary>
    public string? Version => GetNonEmptyParameter(ServiceUrlKeys.Version);

    /// <summary>Gets the service key, <c>group/interface:version</c>, leaving out a group or version that is not given.</summary>
    public string ServiceKey => _serviceKey ??= BuildServiceKey();

    /// <summary>Gets the category (the <c>category</c> parameter); <c>providers</c> when none is given.</summary>
    public string Category => GetNonEmptyParameter(ServiceUrlKeys.Category) ?? ServiceUrlKeys.ProvidersCategory;

    /// <summary>Gets whether the registration is removed when its owner goes away (the <c>dynamic</c> parameter, default <see langword="true"/>).</summary>
    public bool IsDynamic => GetParameter(ServiceUrlKeys.Dynamic, defaultValue: true);

    /// <summary>Gets whether failures throw instead of being retried in the background (the <c>check</c> parameter, default <see langword="true"/>).</summary>
    public bool Check => GetParameter(ServiceUrlKeys.Check, defaultValue: true);

    /// <summary>Gets whether this URL is a consumer's: its protocol is <c>consumer</c> or it has no port.</summary>
    public bool IsConsumer => Port == 0 || Protocol == ServiceUrlKeys.ConsumerProtocol;

    /// <summary>Gets whether this URL is the <c>empty://</c> marker of an emptied category.</summary>
    public bool IsEmptyMarker => Protocol == ServiceUrlKeys.EmptyProtocol;

    /// <summary>Gets the further <c>host:port</c> endpoints named by the <c>backup</c> parameter (or a comma-separated host list).</summary>
    public IReadOnlyList<string> BackupAddresses
    {
        get
        {
            string? backup = GetNonEmptyParameter(ServiceUrlKeys.Backup);
            return backup is null
                ? []
                : backup.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
    }

    /// <summary>Creates a URL from its parts, validating each as <see cref="Parse"/> would.</summary>
    /// <param name="protocol">The protocol, such as <c>dubbo</c> or <c>etcd</c>.</param>
    /// <param name="host">The host name or address; empty only when there is no port.</param>
    /// <param name="port">The port, 0 for none.</param>
    /// <param name="path">The path, usually the service interface; a leading slash is dropped.</param>
    /// <param name="parameters">The parameters; a later duplicate name wins.</param>
    /// <returns>The URL.</returns>
    /// <exception cref="ArgumentException">A part is not valid; the message says which and what a valid form looks like.</exception>
    public static ServiceUrl Create(
        string protocol,
        string host,
        int port = 0,
        string? path = null,
        IEnumerable<KeyValuePair<string, string>>? parameters = null)
    {
        string normalizedProtocol = ValidateProtocolArgument(protocol);
        string normalizedHost = ValidateHostArgument(host, port, hasUserInfo: false);
        ValidatePortArgument(port);
        return new ServiceUrl(
            normalizedProtocol,
            username: null,
            password: null,
            normalizedHost,
            port,
            NormalizePath(path),
            parameters is null ? [] : SortParameters(parameters, nameof(parameters)));
    }

    /// <summary>Gets a parameter's value, or <see langword="null"/> when it is not given.</summary>
    /// <param name="name">The parameter name (case-sensitive).</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    public string? GetParameter(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int index = IndexOf(_parameters, name);
        return index >= 0 ? _parameters[index].Value : null;
    }

    /// <summary>Gets a parameter's value, or <paramref name="defaultValue"/> when it is not given or empty.</summary>
    /// <param name="name">The parameter name.</param>
    /// <param name="defaultValue">The value to use when the parameter is absent or empty.</param>
    /// <returns>The value.</returns>
    public string GetParameter(string name, string defaultValue)
    {
        ArgumentNullException.ThrowIfNull(name);
        return GetNonEmptyParameter(name) ?? defaultValue;
    }

    /// <summary>Gets a Boolean parameter (<c>true</c>/<c>false</c>, any case).</summary>
    /// <param name="name">The parameter name.</param>
    /// <param name="defaultValue">The value to use when the parameter is absent, empty or not a Boolean.</param>
    /// <returns>The value.</returns>
    public bool GetParameter(string name, bool defaultValue)
    {
        ArgumentNullException.ThrowIfNull(name);
        string? text = GetNonEmptyParameter(name);
        return text is not null && bool.TryParse(text, out bool value) ? value : defaultValue;
    }

    /// <summary>Gets a 32-bit integer parameter (invariant culture).</summary>
    /// <param name="name">The parameter name.</param>
    /// <param name="defaultValue">The value to use when the parameter is absent, empty or not an integer in range.</param>
    /// <returns>The value.</returns>
    public int GetParameter(string name, int defaultValue) => GetInteger(name, defaultValue);

    /// <summary>Gets a 64-bit integer parameter (invariant culture).</summary>
    /// <param name="name">The parameter name.</param>
    /// <param name="defaultValue">The value to use when the parameter is absent, empty or not an integer in range.</param>
    /// <returns>The value.</returns>
    public long GetParameter(string name, long defaultValue) => GetInteger(name, defaultValue);

    /// <summary>Gets whether the parameter is given (possibly with an empty value).</summary>
    /// <param name="name">The parameter name.</param>
    /// <returns><see langword="true"/> when it is given.</returns>
    public bool HasParameter(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return IndexOf(_parameters, name) >= 0;
    }

    /// <summary>Returns a copy with another protocol.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithProtocol(string protocol)
    {
        string normalized = ValidateProtocolArgument(protocol);
        return normalized == Protocol ? this : new ServiceUrl(normalized, Username, Password, Host, Port, Path, _parameters);
    }

    /// <summary>Returns a copy with another host and port.</summary>
    /// <param name="host">The host name or address (IPv6 with or without brackets).</param>
    /// <param name="port">The port, 0 for none.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithAddress(string host, int port)
    {
        string normalized = ValidateHostArgument(host, port, hasUserInfo: Username is not null || Password is not null);
        ValidatePortArgument(port);
        return new ServiceUrl(Protocol, Username, Password, normalized, port, Path, _parameters);
    }

    /// <summary>Returns a copy with another port.</summary>
    /// <param name="port">The port, 0 for none.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithPort(int port) => WithAddress(Host, port);

    /// <summary>Returns a copy with another path.</summary>
    /// <param name="path">The path; a leading slash is dropped.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithPath(string? path) =>
        new(Protocol, Username, Password, Host, Port, NormalizePath(path), _parameters);

    /// <summary>Returns a copy with these credentials.</summary>
    /// <param name="username">The user name.</param>
    /// <param name="password">The password, or <see langword="null"/> for none.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithCredentials(string username, string? password)
    {
        ArgumentNullException.ThrowIfNull(username);
        if (Host.Length == 0)
        {
            throw new ArgumentException(
                $"The URL '{this}' has no host, so it cannot carry credentials. Give it a host first, as in 'etcd://user@127.0.0.1:2379'.",
                nameof(username));
        }

        return new ServiceUrl(Protocol, username.Length == 0 ? null : username, password, Host, Port, Path, _parameters);
    }

    /// <summary>Returns a copy without user name and password.</summary>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithoutCredentials() =>
        Username is null && Password is null ? this : new ServiceUrl(Protocol, null, null, Host, Port, Path, _parameters);

    /// <summary>Returns a copy with the parameter set to <paramref name="value"/>.</summary>
    /// <param name="name">The parameter name; not empty.</param>
    /// <param name="value">The value.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithParameter(string name, string value)
    {
        ValidateParameterName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(value);
        int index = IndexOf(_parameters, name);
        KeyValuePair<string, string>[] copy;
        if (index >= 0)
        {
            if (_parameters[index].Value == value)
            {
                return this;
            }

            copy = (KeyValuePair<string, string>[])_parameters.Clone();
            copy[index] = new(name, value);
        }
        else
        {
            int insertAt = ~index;
            copy = new KeyValuePair<string, string>[_parameters.Length + 1];
            Array.Copy(_parameters, copy, insertAt);
            copy[insertAt] = new(name, value);
            Array.Copy(_parameters, insertAt, copy, insertAt + 1, _parameters.Length - insertAt);
        }

        return new ServiceUrl(Protocol, Username, Password, Host, Port, Path, copy);
    }

    /// <summary>Returns a copy with these parameters set; a name given twice takes its last value.</summary>
    /// <param name="parameters">The parameters to set.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithParameters(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var merged = new Dictionary<string, string>(_parameters.Length, StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in _parameters)
        {
            merged[pair.Key] = pair.Value;
        }

        foreach (KeyValuePair<string, string> pair in parameters)
        {
            ValidateParameterName(pair.Key, nameof(parameters));
            merged[pair.Key] = pair.Value ?? throw new ArgumentException(
                $"The parameter '{pair.Key}' has a null value. Give it a value, even an empty one.", nameof(parameters));
        }

        return new ServiceUrl(Protocol, Username, Password, Host, Port, Path, SortParameters(merged, nameof(parameters)));
    }

    /// <summary>Returns a copy without the named parameters.</summary>
    /// <param name="names">The parameter names to remove.</param>
    /// <returns>The new URL.</returns>
    public ServiceUrl WithoutParameters(params ReadOnlySpan<string> names)
    {
        var kept = new List<KeyValuePair<string, string>>(_parameters.Length);
        foreach (KeyValuePair<string, string> pair in _parameters)
        {
            if (!names.Contains(pair.Key))
            {
                kept.Add(pair);
            }
        }

        return kept.Count == _parameters.Length
            ? this
            : new ServiceUrl(Protocol, Username, Password, Host, Port, Path, [.. kept]);
    }

    /// <summary>
    /// Returns the <c>empty://</c> URL that tells a subscriber of this URL that <paramref name="category"/> is now empty:
    /// this URL with protocol <c>empty</c> and the <c>category</c> parameter set.
    /// </summary>
    /// <param name="category">The category that became empty, such as <c>providers</c>.</param>
    /// <returns>The marker URL.</returns>
    public ServiceUrl ToEmptyMarker(string category)
    {
        ValidateParameterName(category, nameof(category));
        return WithProtocol(ServiceUrlKeys.EmptyProtocol).WithParameter(ServiceUrlKeys.Category, category);
    }

    /// <summary>Returns the URL with its password and every credential-like parameter value replaced by <c>***</c>.</summary>
    /// <returns>The redacted form, safe for logs, messages and files.</returns>
    public override string ToString() => Format(redact: true);

    /// <summary>Returns the complete URL, credentials included, percent-encoded so that <see cref="Parse"/> reads it back.</summary>
    /// <returns>The full form. Send it on the wire; never log it.</returns>
    public string ToFullString() => Format(redact: false);

    /// <inheritdoc/>
    public bool Equals([NotNullWhen(true)] ServiceUrl? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null
            || Port != other.Port
            || !string.Equals(Protocol, other.Protocol, StringComparison.Ordinal)
            || !string.Equals(Host, other.Host, StringComparison.Ordinal)
            || !string.Equals(Path, other.Path, StringComparison.Ordinal)
            || !string.Equals(Username, other.Username, StringComparison.Ordinal)
            || !string.Equals(Password, other.Password, StringComparison.Ordinal)
            || _parameters.Length != other._parameters.Length)
        {
            return false;
        }

        for (int i = 0; i < _parameters.Length; i++)
        {
            if (!string.Equals(_parameters[i].Key, other._parameters[i].Key, StringComparison.Ordinal)
                || !string.Equals(_parameters[i].Value, other._parameters[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ServiceUrl);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        int hash = _hashCode;
        if (hash == 0)
        {
            var combined = default(HashCode);
            combined.Add(Protocol, StringComparer.Ordinal);
            combined.Add(Host, StringComparer.Ordinal);
            combined.Add(Port);
            combined.Add(Path, StringComparer.Ordinal);
            combined.Add(Username, StringComparer.Ordinal);
            combined.Add(Password, StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> pair in _parameters)
            {
                combined.Add(pair.Key, StringComparer.Ordinal);
                combined.Add(pair.Value, StringComparer.Ordinal);
            }

            hash = combined.ToHashCode();
            _hashCode = hash == 0 ? 1 : hash;
        }

        return hash;
    }

    /// <summary>Compares two URLs for equality.</summary>
    /// <param name="left">The first URL.</param>
    /// <param name="right">The second URL.</param>
    /// <returns><see langword="true"/> when they are equal.</returns>
    public static bool operator ==(ServiceUrl? left, ServiceUrl? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Compares two URLs for inequality.</summary>
    /// <param name="left">The first URL.</param>
    /// <param name="right">The second URL.</param>
    /// <returns><see langword="true"/> when they differ.</returns>
    public static bool operator !=(ServiceUrl? left, ServiceUrl? right) => !(left == right);

    private T GetInteger<T>(string name, T defaultValue)
        where T : IBinaryInteger<T>
    {
        ArgumentNullException.ThrowIfNull(name);
        string? text = GetNonEmptyParameter(name);
        return text is not null && T.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out T? value)
            ? value
            : defaultValue;
    }

    private string? GetNonEmptyParameter(string name)
    {
        int index = IndexOf(_parameters, name);
        return index >= 0 && _parameters[index].Value.Length > 0 ? _parameters[index].Value : null;
    }

    private string BuildServiceKey()
    {
        string? group = Group;
        string? version = Version;
        string serviceInterface = ServiceInterface;
        return (group, version) switch
        {
            (null, null) => serviceInterface,
            (null, _) => string.Concat(serviceInterface, ":", version),
            (_, null) => string.Concat(group, "/", serviceInterface),
            _ => string.Concat(group, "/", serviceInterface, ":", version),
        };
    }

    private string Format(bool redact)
    {
        var builder = new StringBuilder(64);
        builder.Append(Protocol).Append("://");
        if (Username is not null || Password is not null)
        {
            if (Username is not null)
            {
                PercentEncoding.Append(builder, Username, PercentEncoding.Part.UserInfo);
            }

            if (Password is not null)
            {
                builder.Append(':');
                if (redact)
                {
                    builder.Append(Redaction.Mask);
                }
                else
                {
                    PercentEncoding.Append(builder, Password, PercentEncoding.Part.UserInfo);
                }
            }

            builder.Append('@');
        }

        builder.Append(FormatHost(Host));
        if (Port != 0)
        {
            builder.Append(':').Append(Port.ToString(CultureInfo.InvariantCulture));
        }

        if (Path.Length > 0)
        {
            builder.Append('/');
            PercentEncoding.Append(builder, Path, PercentEncoding.Part.Path);
        }

        for (int i = 0; i < _parameters.Length; i++)
        {
            builder.Append(i == 0 ? '?' : '&');
            PercentEncoding.Append(builder, _parameters[i].Key, PercentEncoding.Part.Query);
            builder.Append('=');
            if (redact && Redaction.IsSensitiveName(_parameters[i].Key))
            {
                builder.Append(Redaction.Mask);
            }
            else
            {
                PercentEncoding.Append(builder, _parameters[i].Value, PercentEncoding.Part.Query);
            }
        }

        return builder.ToString();
    }

    private static string FormatHost(string host) => host.Contains(':') ? string.Concat("[", host, "]") : host;

    private static string NormalizePath(string? path) =>
        string.IsNullOrEmpty(path) ? string.Empty : path.TrimStart('/');

    private static int IndexOf(KeyValuePair<string, string>[] sorted, string name)
    {
        int low = 0;
        int high = sorted.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            int comparison = string.CompareOrdinal(sorted[middle].Key, name);
            if (comparison == 0)
            {
                return middle;
            }

            if (comparison < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    private static KeyValuePair<string, string>[] SortParameters(IEnumerable<KeyValuePair<string, string>> parameters, string paramName)
    {
        var unique = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in parameters)
        {
            ValidateParameterName(pair.Key, paramName);
            unique[pair.Key] = pair.Value ?? throw new ArgumentException(
                $"The parameter '{pair.Key}' has a null value. Give it a value, even an empty one.", paramName);
        }

        KeyValuePair<string, string>[] sorted = [.. unique];
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return sorted;
    }

    private static void ValidateParameterName(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length == 0)
        {
            throw new ArgumentException("A parameter name must not be empty. Parameters take the form 'name=value'.", paramName);
        }
    }

    private static string ValidateProtocolArgument(string protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        if (!IsValidScheme(protocol))
        {
            throw new ArgumentException(
                $"The protocol '{Sanitize(protocol)}' is not valid: a protocol starts with a letter and holds only letters, digits, '+', '-' and '.', as in 'dubbo' or 'etcd'.",
                nameof(protocol));
        }

        return protocol.ToLowerInvariant();
    }

    private static void ValidatePortArgument(int port)
    {
        if ((uint)port > MaxPort)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, $"The port {port} is outside 0 to {MaxPort}. Use 0 for no port.");
        }
    }

    private static string ValidateHostArgument(string host, int port, bool hasUserInfo)
    {
        ArgumentNullException.ThrowIfNull(host);
        string bare = host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (bare.Length == 0)
        {
            if (port != 0 || hasUserInfo)
            {
                throw new ArgumentException(
                    "The host is empty, but a URL with a port or credentials needs one. Give a host, as in '10.0.0.1'.",
                    nameof(host));
            }

            return string.Empty;
        }

        string? error = ValidateHost(bare, bracketed: bare.Contains(':'), input: null);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(host));
        }

        return bare.ToLowerInvariant();
    }

    private sealed class ParameterView(KeyValuePair<string, string>[] sorted) : IReadOnlyDictionary<string, string>
    {
        public string this[string key] =>
            TryGetValue(key, out string? value) ? value : throw new KeyNotFoundException($"The URL has no parameter '{key}'.");

        public IEnumerable<string> Keys => sorted.Select(static pair => pair.Key);

        public IEnumerable<string> Values => sorted.Select(static pair => pair.Value);

        public int Count => sorted.Length;

        public bool ContainsKey(string key) => IndexOf(sorted, key) >= 0;

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
        {
            ArgumentNullException.ThrowIfNull(key);
            int index = IndexOf(sorted, key);
            value = index >= 0 ? sorted[index].Value : null;
            return index >= 0;
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)sorted).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
