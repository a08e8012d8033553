import Foundation

/// `${TOCK_CONFIG_DIR}` in a configuration file's plugin sections (UDFs, notifiers, collectors): the directory of the
/// file, so that a file can name programs beside it and work from any current directory (Tock's extra).
public enum ConfigDirectory {
    /// The text replaced.
    public static let variable = "${TOCK_CONFIG_DIR}"

    /// The directory `${TOCK_CONFIG_DIR}` stands for in the configuration file `file`: its directory, absolute
    /// (a relative `file` is taken from the current directory); the current directory for text with no file
    /// (`"<config>"`).
    public static func of(file: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        return file == "<config>" ? cwd
            : URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: cwd, isDirectory: true))
                .standardizedFileURL.deletingLastPathComponent().path
    }

    /// `text` with every `${TOCK_CONFIG_DIR}` replaced by `directory` (see ``of(file:)``): the one expansion UDF,
    /// notifier and collector sections share.
    public static func expand(_ text: String, directory: String) -> String {
        text.replacingOccurrences(of: variable, with: directory)
    }
}
