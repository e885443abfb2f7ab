package mysqlwire

import "encoding/binary"

// Capability flags (the ones this server looks at or announces).
const (
	clientLongPassword               = 0x00000001 // also "CLIENT_MYSQL": MariaDB clients read it as "not MariaDB"
	clientFoundRows                  = 0x00000002
	clientLongFlag                   = 0x00000004
	clientConnectWithDB              = 0x00000008
	clientProtocol41                 = 0x00000200
	clientInteractive                = 0x00000400
	clientSSL                        = 0x00000800
	clientTransactions               = 0x00002000
	clientSecureConnection           = 0x00008000
	clientMultiStatements            = 0x00010000
	clientMultiResults               = 0x00020000
	clientPSMultiResults             = 0x00040000
	clientPluginAuth                 = 0x00080000
	clientConnectAttrs               = 0x00100000
	clientPluginAuthLenEncClientData = 0x00200000
	clientDeprecateEOF               = 0x01000000

	// serverCapabilities are the flags the server announces.
	serverCapabilities = clientLongPassword | clientFoundRows | clientLongFlag | clientConnectWithDB |
		clientProtocol41 | clientInteractive | clientTransactions | clientSecureConnection |
		clientMultiStatements | clientMultiResults | clientPSMultiResults | clientPluginAuth |
		clientConnectAttrs | clientPluginAuthLenEncClientData | clientDeprecateEOF
)

// Status flags.
const (
	statusAutocommit      = 0x0002
	statusMoreResults     = 0x0008
	statusNoIndexUsed     = 0x0020
	defaultStatus         = statusAutocommit
	multiStatementsOn     = 0
	multiStatementsOff    = 1
	nativePassword        = "mysql_native_password"
	cachingSHA2Password   = "caching_sha2_password"
	scrambleLength        = 20
	charsetUTF8MB4General = 45 // utf8mb4_general_ci
	charsetBinary         = 63
)

// Commands.
const (
	comQuit             = 0x01
	comInitDB           = 0x02
	comQuery            = 0x03
	comFieldList        = 0x04
	comStatistics       = 0x09
	comPing             = 0x0e
	comChangeUser       = 0x11
	comStmtPrepare      = 0x16
	comStmtExecute      = 0x17
	comStmtSendLongData = 0x18
	comStmtClose        = 0x19
	comStmtReset        = 0x1a
	comSetOption        = 0x1b
	comStmtFetch        = 0x1c
	comResetConnection  = 0x1f
)

// Column types.
const (
	typeDecimal    = 0x00
	typeTiny       = 0x01
	typeShort      = 0x02
	typeLong       = 0x03
	typeFloat      = 0x04
	typeDouble     = 0x05
	typeNull       = 0x06
	typeTimestamp  = 0x07
	typeLongLong   = 0x08
	typeInt24      = 0x09
	typeDate       = 0x0a
	typeTime       = 0x0b
	typeDatetime   = 0x0c
	typeYear       = 0x0d
	typeNewDate    = 0x0e
	typeVarchar    = 0x0f
	typeBit        = 0x10
	typeTimestamp2 = 0x11
	typeDatetime2  = 0x12
	typeTime2      = 0x13
	typeJSON       = 0xf5
	typeNewDecimal = 0xf6
	typeEnum       = 0xf7
	typeSet        = 0xf8
	typeTinyBlob   = 0xf9
	typeMediumBlob = 0xfa
	typeLongBlob   = 0xfb
	typeBlob       = 0xfc
	typeVarString  = 0xfd
	typeString     = 0xfe
	typeGeometry   = 0xff
)

// Column flags.
const (
	flagNotNull  = 0x0001
	flagBlob     = 0x0010
	flagUnsigned = 0x0020
	flagBinary   = 0x0080
	flagNum      = 0x8000
)

// appendOK appends an OK packet's payload; header is 0x00, or 0xfe when it
// ends a result set of a client with CLIENT_DEPRECATE_EOF.
func appendOK(dst []byte, header byte, affected uint64, status uint16) []byte {
	dst = append(dst, header)
	dst = appendLenEncInt(dst, affected)
	dst = appendLenEncInt(dst, 0) // last insert id
	dst = binary.LittleEndian.AppendUint16(dst, status)
	return binary.LittleEndian.AppendUint16(dst, 0) // warnings
}

// appendEOF appends an EOF packet's payload.
func appendEOF(dst []byte, status uint16) []byte {
	dst = append(dst, 0xfe, 0, 0) // header, warnings
	return binary.LittleEndian.AppendUint16(dst, status)
}

// appendErr appends an ERR packet's payload.
func appendErr(dst []byte, e *wireError) []byte {
	dst = append(dst, 0xff)
	dst = binary.LittleEndian.AppendUint16(dst, e.code)
	dst = append(dst, '#')
	dst = append(dst, e.state...)
	return append(dst, e.msg...)
}

// column is the definition of a result column
// (Protocol::ColumnDefinition41).
type column struct {
	name     string
	typ      byte
	flags    uint16
	charset  uint16
	length   uint32
	decimals byte
}

func appendColumn(dst []byte, c *column) []byte {
	dst = appendLenEncString(dst, "def") // catalog
	dst = appendLenEncString(dst, "")    // schema
	dst = appendLenEncString(dst, "")    // table
	dst = appendLenEncString(dst, "")    // org_table
	dst = appendLenEncString(dst, c.name)
	dst = appendLenEncString(dst, c.name) // org_name
	dst = append(dst, 0x0c)               // length of the fixed fields
	dst = binary.LittleEndian.AppendUint16(dst, c.charset)
	dst = binary.LittleEndian.AppendUint32(dst, c.length)
	dst = append(dst, c.typ)
	dst = binary.LittleEndian.AppendUint16(dst, c.flags)
	dst = append(dst, c.decimals)
	return append(dst, 0, 0)
}
