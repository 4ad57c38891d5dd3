// The residents' page: balances, a monthly chart, entries in plain words,
// "my payments" with receipts, pending proposals, the log key fingerprint,
// and verification in the browser (verify.js). No build step, no CDN.
//
// Money is integer fen from the API and is formatted with BigInt; it is
// never put through floating-point arithmetic.
//
// Test hooks: `#verify=<seq>` verifies one entry on load into
// `#verify-result`; `#verify-all` verifies the page into
// `#verify-all-result` (both carry data-status and data-step). `?lang=en`
// starts in English. <html data-app="ready"> once the first data rendered.

import { createVerifier, parseNote, parseCheckpoint, parseVkey, VerifyError, sha256, toHex, utf8, amountFen } from './verify.js';

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

const STRINGS = {
  zh: {
    'html.lang': 'zh-CN',
    'colon': '：',
    'doc.title': '{name} · 公开账本',
    'app.subtitle': '小区公共资金公开账本：每笔收支都有签名，任何人都可以核验。',
    'app.loading': '正在加载…',
    'app.load-failed': '数据加载失败：{message}',
    'lang.switch': 'English',
    'lang.switch-label': 'Switch to English',
    'nav.label': '页面导航',
    'nav.balances': '余额',
    'nav.trust': '核验',
    'nav.chart': '收支图',
    'nav.mine': '我的缴费',
    'nav.proposals': '待签',
    'nav.entries': '明细',
    'skip': '跳到收支明细',

    'balances.title': '资金余额',
    'balances.note': '账本共 {size} 条记录',
    'balances.total': '合计',

    'trust.title': '账本核验',
    'trust.checkpoint': '最新检查点',
    'trust.size': '{size} 条记录',
    'trust.time': '最新记录时间',
    'trust.root': '根哈希',
    'trust.signatures': '签名与联署',
    'trust.log-key-label': '日志密钥',
    'trust.log-signature': '{keyid}（物业服务器）',
    'trust.no-cosignatures': '尚无联署签名',
    'trust.committee-count': '（{have}/{total} 位委员）',
    'trust.unknown': '未知签名方',
    'trust.verified-mark': '已核验',
    'trust.verify-page': '验证本页',
    'trust.verify-page-help': '在你的手机上检查检查点签名、联署，以及本页显示的每条记录。',
    'trust.verify-all-ok': '本页已验证：检查点（{size} 条）及本页 {count} 条记录全部通过。',
    'trust.verify-all-failed': '验证失败：{what}',
    'trust.verify-all-running': '正在验证本页…',

    'fp.title': '日志密钥指纹',
    'fp.help': '请与小区公告栏上公布的指纹逐组核对。只有指纹一致，本页的验证结果才可信。',
    'fp.keyid': '密钥编号',
    'fp.sha': 'SHA-256 指纹',
    'fp.name': '密钥名称',
    'fp.full': '完整密钥',
    'fp.pin': '核对无误，在本机记住此密钥',
    'fp.pinned': '已在本机记住此密钥；若服务器更换密钥，本页会发出警告。',
    'fp.unpin': '忘记此密钥',
    'fp.pin-mismatch': '警告：服务器现在的日志密钥与你之前核对并记住的不同！请勿相信本页数据，并告知业主委员会。',
    'fp.unavailable': '此连接无法计算指纹（需要 HTTPS）。',
    'fp.bad-key': '警告：服务器给出的日志密钥无效，其编号与密钥本身不符！请勿相信本页数据，并告知业主委员会。',

    'chart.title': '月度收支',
    'chart.fund': '资金',
    'chart.income': '收入',
    'chart.spending': '支出',
    'chart.month': '月份',
    'chart.table': '查看数据表',
    'chart.total': '合计',
    'chart.aria': '{fund}每月收入与支出柱状图，{from} 至 {to}',
    'chart.empty': '暂无数据',
    'chart.month-label': '{m}月',

    'mine.title': '我的缴费',
    'mine.help': '输入房号（如 3-1502），查看该户的缴费记录并下载收据。',
    'mine.unit': '房号',
    'mine.show': '查询',
    'mine.none': '没有找到 {unit} 的缴费记录。',
    'mine.count': '{unit} 共 {count} 笔记录，合计 {total}',

    'proposals.title': '待签提案',
    'proposals.help': '物业公司提出、尚待业主委员会等签署的收支。签够后自动入账。',
    'proposals.none': '目前没有待签署的提案。',
    'proposals.created': '提出于 {time}',
    'proposals.signed': '已签：{names}',
    'proposals.blocked': '暂不能入账：{message}',
    'proposals.id': '提案编号',

    'entries.title': '收支明细',
    'entries.filters': '筛选',
    'entries.fund': '资金',
    'entries.category': '类别',
    'entries.month': '月份',
    'entries.unit': '房号或单位',
    'entries.all': '全部',
    'entries.apply': '筛选',
    'entries.clear': '清除',
    'entries.more': '加载更多',
    'entries.none': '没有符合条件的记录。',
    'entries.end': '已显示全部。',
    'entries.count': '已显示 {count} 条',

    'kind.genesis': '账本创建',
    'kind.income': '收入',
    'kind.expenditure': '支出',
    'kind.transfer': '资金划转',
    'kind.reversal': '冲销',
    'kind.governance': '治理变更',

    'entry.paid-by': '{payer} 缴纳{category}',
    'entry.period': '所属期 {period}',
    'entry.paid-to': '支付给 {payee}',
    'entry.transfer': '从{from}转入{to}',
    'entry.reversal': '冲销第 {target} 条记录',
    'entry.reason': '原因：{reason}',
    'entry.reversal-of': '被冲销的是：{what} {amount}（{date}）',
    'entry.genesis': '账本“{name}”创建',
    'entry.governance': '角色或规则变更',
    'entry.roles-now': '{role}：{names}（需 {threshold} 人签署）',
    'entry.into': '计入{fund}',
    'entry.from-fund': '从{fund}支出',
    'entry.signers': '签署',
    'entry.attachments': '附件',
    'entry.approval': '业主表决',
    'entry.approval-line': '参与：专有面积 {pa}、人数 {ph}；同意：专有面积 {aa}、人数 {ah}',
    'entry.decision': '决议 {ref}',
    'entry.reversed': '此记录已被第 {by} 条冲销',
    'entry.reversed-reason': '此记录已被第 {by} 条冲销：{reason}',
    'entry.reversal-unverified': '（冲销记录尚未核验）',
    'entry.recorded': '记录于 {time}',
    'entry.verify': '验证',
    'entry.receipt': '下载收据',
    'entry.former-key': '已卸任的密钥',
    'entry.seq': '第 {seq} 条',

    'role.company': '物业公司',
    'role.committee': '业主委员会',
    'role.supervisor': '社区党组织',
    'role.witness': '见证方',

    'fund.operating': '物业服务费',
    'fund.public_revenue': '公共收益',
    'fund.maintenance': '专项维修资金',

    'cat.property_fee': '物业费',
    'cat.parking': '停车费',
    'cat.advertising': '广告收入',
    'cat.venue_rental': '场地租金',
    'cat.interest': '利息',
    'cat.other': '其他',
    'cat.cleaning': '保洁',
    'cat.security': '秩序维护',
    'cat.greening': '绿化',
    'cat.elevator': '电梯',
    'cat.repairs': '维修',
    'cat.utilities': '公共水电',
    'cat.salaries': '人员工资',
    'cat.management_fee': '物业酬金',
    'cat.transfer': '资金划转',

    'v.running': '正在验证…',
    'v.verified': '已验证 verified',
    'v.failed': '验证失败',
    'v.unsupported': '此浏览器无法验证',
    'v.amount': '金额 {amount}（由已验证的签名数据得出）',
    'v.checkpoint': '包含在检查点中（{size} 条，日志密钥 {keyid}）',
    'v.details': '验证了哪些内容',
    'v.failed-at': '第“{step}”步未通过：{reason}',
    'v.result-title': '验证第 {seq} 条记录',
    'v.what.crypto': '浏览器支持所需的加密算法',
    'v.what.log-key': '日志密钥 {keyId} 格式与编号正确',
    'v.what.checkpoint': '检查点（{size} 条）由日志密钥签名',
    'v.what.genesis': '创世记录包含在日志中，且由全部角色签署',
    'v.what.governance': '重放了 {count} 次治理变更，角色与服务器公布的一致',
    'v.what.governance-uncompared': '重放了 {count} 次治理变更；服务器公布的角色属于比检查点更新的账本，未能比对',
    'v.what.cosignature': '联署签名有效：{names}',
    'v.what.leaf-hash': '记录内容的哈希 {hash}… 与服务器及证明一致',
    'v.what.signature': '签名有效且符合规则：{names}',
    'v.what.inclusion': '包含证明通向已签名的根哈希',
    'v.what.amount': '显示的金额和内容与已验证数据一致',
    'v.what.target': '被冲销的第 {seq} 条记录同样包含在日志中',

    'step.crypto': '浏览器加密支持',
    'step.fetch': '获取数据',
    'step.log-key': '日志密钥',
    'step.checkpoint': '检查点签名',
    'step.genesis': '创世记录',
    'step.governance': '治理变更记录',
    'step.cosignature': '联署签名',
    'step.leaf-hash': '记录哈希',
    'step.signature': '审批签名',
    'step.target': '被冲销的记录',
    'step.inclusion': '包含证明',
    'step.amount': '金额与内容',
    'step.internal': '内部错误',

    'r.no-webcrypto': '此浏览器或连接不提供 WebCrypto（需要 HTTPS 或本机地址）',
    'r.no-ed25519': '此浏览器不支持 Ed25519 签名验证，请更新浏览器',
    'r.network': '无法连接服务器（{path}）',
    'r.http': '服务器返回错误 {status}（{path}）',
    'r.not-json': '服务器返回的不是 JSON（{path}）',
    'r.bad-seq': '记录编号无效',
    'r.bad-vkey': '日志密钥格式错误',
    'r.pin-mismatch': '服务器的日志密钥与你在本机记住的不同',
    'r.note-format': '检查点格式错误（{why}）',
    'r.no-log-signature': '检查点没有日志密钥的签名',
    'r.bad-log-signature': '检查点上的日志签名无效',
    'r.origin-mismatch': '检查点属于另一个账本',
    'r.bad-cosignature': '{name} 的联署签名无效',
    'r.not-base64': '记录数据编码错误',
    'r.mismatch-claimed': '记录内容的哈希与服务器声称的不符——内容被改动过',
    'r.mismatch-proof': '记录内容的哈希与包含证明所用的不符',
    'r.not-utf8': '记录不是有效的 UTF-8',
    'r.not-json-leaf': '记录不是有效的 JSON',
    'r.not-canonical': '记录不是规范格式（JCS）',
    'r.wrong-seq': '记录编号与请求的不符',
    'r.wrong-ledger': '记录属于另一个账本',
    'r.wrong-kind': '记录类型不符',
    'r.no-signatures': '记录没有有效的签名列表',
    'r.unknown-key': '签名密钥 {key} 当时不属于任何角色',
    'r.bad-signature': '{key} 的签名无效',
    'r.rule-unmet': '{role}签名不足：{have}/{need}',
    'r.bad-proof': '包含证明格式错误',
    'r.root-mismatch': '包含证明算出的根哈希与已签名的检查点不符',
    'r.not-in-checkpoint': '此记录尚未进入检查点',
    'r.amount-mismatch': '页面显示的金额 {shown} 与已验证数据 {verified} 不符',
    'r.display-mismatch': '页面显示的内容与已验证数据不符',
    'r.log-key-mismatch': '创世记录中的日志密钥与此密钥不同',
    'r.roles-mismatch': '服务器公布的现行角色与治理记录重放的结果不符',
    'r.bad-size': '服务器公布的账本大小无效',
    'r.empty-log': '日志为空',
    'r.order': '治理记录顺序错误',
    'r.not-reversible': '被冲销的记录类型不可冲销',
    'r.inner': '第 {seq} 条记录：{inner}',
    'r.exception': '{message}',

    'footer.api': '数据接口',
    'footer.how': '核验方法：本页用浏览器内置的 WebCrypto 重新计算记录哈希、检查 Ed25519 签名、包含证明和检查点签名，唯一需要信任的是公告栏上的日志密钥指纹。完整审计：feeledger verify --url 本站地址 --log-key 公告栏上的密钥。',
  },
  en: {
    'html.lang': 'en',
    'colon': ': ',
    'doc.title': '{name} · public ledger',
    'app.subtitle': "The community's money in a public ledger: every entry is signed, and anyone can check it.",
    'app.loading': 'Loading…',
    'app.load-failed': 'Could not load data: {message}',
    'lang.switch': '中文',
    'lang.switch-label': '切换到中文',
    'nav.label': 'Sections',
    'nav.balances': 'Funds',
    'nav.trust': 'Verify',
    'nav.chart': 'Chart',
    'nav.mine': 'Mine',
    'nav.proposals': 'Pending',
    'nav.entries': 'List',
    'skip': 'Skip to entries',

    'balances.title': 'Fund balances',
    'balances.note': 'after {size} entries',
    'balances.total': 'Total',

    'trust.title': 'Checking the ledger',
    'trust.checkpoint': 'Latest checkpoint',
    'trust.size': '{size} entries',
    'trust.time': 'Newest entry recorded',
    'trust.root': 'Root hash',
    'trust.signatures': 'Signed and cosigned by',
    'trust.log-key-label': 'Log key',
    'trust.log-signature': '{keyid} (the company’s server)',
    'trust.no-cosignatures': 'no cosignatures yet',
    'trust.committee-count': ' ({have} of {total} members)',
    'trust.unknown': 'unknown signer',
    'trust.verified-mark': 'verified',
    'trust.verify-page': 'Verify page',
    'trust.verify-page-help': 'Checks the checkpoint signature, the cosignatures and every entry on this page, on your phone.',
    'trust.verify-all-ok': 'Page verified: the checkpoint ({size} entries) and all {count} entries shown.',
    'trust.verify-all-failed': 'Verification failed: {what}',
    'trust.verify-all-running': 'Verifying this page…',

    'fp.title': 'Log key fingerprint',
    'fp.help': 'Compare it, group by group, with the fingerprint on the notice board. Verification here means something only if they match.',
    'fp.keyid': 'Key ID',
    'fp.sha': 'SHA-256 fingerprint',
    'fp.name': 'Key name',
    'fp.full': 'Full key',
    'fp.pin': 'It matches: remember this key on this phone',
    'fp.pinned': 'This key is remembered here; the page will warn you if the server ever changes it.',
    'fp.unpin': 'Forget this key',
    'fp.pin-mismatch': 'WARNING: the server’s log key is not the one you checked and remembered! Do not trust this page; tell the owners’ committee.',
    'fp.unavailable': 'The fingerprint cannot be computed on this connection (HTTPS needed).',
    'fp.bad-key': 'WARNING: the log key this server sends is invalid: its key id does not match the key itself! Do not trust this page; tell the owners’ committee.',

    'chart.title': 'Income and spending by month',
    'chart.fund': 'Fund',
    'chart.income': 'Income',
    'chart.spending': 'Spending',
    'chart.month': 'Month',
    'chart.table': 'Show the numbers',
    'chart.total': 'Total',
    'chart.aria': 'Monthly income and spending, {fund}, {from} to {to}',
    'chart.empty': 'No data yet',
    'chart.month-label': '{mon}',

    'mine.title': 'My payments',
    'mine.help': 'Type your unit number (e.g. 3-1502) to see its payments and download receipts.',
    'mine.unit': 'Unit',
    'mine.show': 'Show',
    'mine.none': 'No entries found for {unit}.',
    'mine.count': '{unit}: {count} entries, {total} in all',

    'proposals.title': 'Pending proposals',
    'proposals.help': 'Proposed by the company, waiting for the owners’ committee (and others) to sign. They commit once signed.',
    'proposals.none': 'Nothing is waiting for signatures.',
    'proposals.created': 'proposed {time}',
    'proposals.signed': 'signed: {names}',
    'proposals.blocked': 'cannot commit now: {message}',
    'proposals.id': 'Proposal',

    'entries.title': 'Entries',
    'entries.filters': 'Filter',
    'entries.fund': 'Fund',
    'entries.category': 'Category',
    'entries.month': 'Month',
    'entries.unit': 'Unit or business',
    'entries.all': 'All',
    'entries.apply': 'Filter',
    'entries.clear': 'Clear',
    'entries.more': 'Load more',
    'entries.none': 'No entries match.',
    'entries.end': 'That is all of them.',
    'entries.count': '{count} shown',

    'kind.genesis': 'Ledger created',
    'kind.income': 'Income',
    'kind.expenditure': 'Spending',
    'kind.transfer': 'Transfer',
    'kind.reversal': 'Reversal',
    'kind.governance': 'Governance',

    'entry.paid-by': '{payer} paid {category}',
    'entry.period': 'for {period}',
    'entry.paid-to': 'Paid to {payee}',
    'entry.transfer': 'From “{from}” to “{to}”',
    'entry.reversal': 'Reverses entry {target}',
    'entry.reason': 'Reason: {reason}',
    'entry.reversal-of': 'It reverses: {what}, {amount} ({date})',
    'entry.genesis': 'Ledger “{name}” created',
    'entry.governance': 'Roles or rules changed',
    'entry.roles-now': '{role}: {names} ({threshold} must sign)',
    'entry.into': 'into: {fund}',
    'entry.from-fund': 'from: {fund}',
    'entry.signers': 'Signed by',
    'entry.attachments': 'Attachments',
    'entry.approval': 'Owners’ vote',
    'entry.approval-line': 'took part: {pa} of floor area, {ph} of owners; approved: {aa} of floor area, {ah} of owners',
    'entry.decision': 'decision {ref}',
    'entry.reversed': 'Reversed by entry {by}',
    'entry.reversed-reason': 'Reversed by entry {by}: {reason}',
    'entry.reversal-unverified': ' (the reversal is not verified yet)',
    'entry.recorded': 'recorded {time}',
    'entry.verify': 'Verify',
    'entry.receipt': 'Receipt',
    'entry.former-key': 'former key',
    'entry.seq': 'entry {seq}',

    'role.company': 'Management company',
    'role.committee': 'Owners’ committee',
    'role.supervisor': 'Community supervisor',
    'role.witness': 'Witness',

    'fund.operating': 'Property fees',
    'fund.public_revenue': 'Common-area income',
    'fund.maintenance': 'Maintenance fund',

    'cat.property_fee': 'property fee',
    'cat.parking': 'parking',
    'cat.advertising': 'advertising',
    'cat.venue_rental': 'venue rental',
    'cat.interest': 'interest',
    'cat.other': 'other',
    'cat.cleaning': 'cleaning',
    'cat.security': 'security',
    'cat.greening': 'greenery',
    'cat.elevator': 'elevators',
    'cat.repairs': 'repairs',
    'cat.utilities': 'utilities',
    'cat.salaries': 'salaries',
    'cat.management_fee': 'management fee',
    'cat.transfer': 'transfer',

    'v.running': 'Verifying…',
    'v.verified': '已验证 verified',
    'v.failed': 'Verification failed',
    'v.unsupported': 'This browser cannot verify',
    'v.amount': 'Amount {amount} (from the verified, signed data)',
    'v.checkpoint': 'Included in the checkpoint ({size} entries, log key {keyid})',
    'v.details': 'What was checked',
    'v.failed-at': 'Step “{step}” failed: {reason}',
    'v.result-title': 'Verifying entry {seq}',
    'v.what.crypto': 'the browser has the cryptography needed',
    'v.what.log-key': 'log key {keyId} is well-formed',
    'v.what.checkpoint': 'the checkpoint ({size} entries) is signed by the log key',
    'v.what.genesis': 'the genesis entry is in the log, signed by every role',
    'v.what.governance': '{count} governance changes replayed; roles match what the server says',
    'v.what.governance-uncompared': '{count} governance changes replayed; the roles the server lists are for a ledger newer than the checkpoint, so they were not compared',
    'v.what.cosignature': 'cosignatures valid: {names}',
    'v.what.leaf-hash': 'the entry’s hash {hash}… matches the server and the proof',
    'v.what.signature': 'signatures valid and the rule met: {names}',
    'v.what.inclusion': 'the inclusion proof leads to the signed root',
    'v.what.amount': 'the amount and details shown match the verified data',
    'v.what.target': 'the reversed entry {seq} is in the log too',

    'step.crypto': 'browser cryptography',
    'step.fetch': 'fetching data',
    'step.log-key': 'log key',
    'step.checkpoint': 'checkpoint signature',
    'step.genesis': 'genesis entry',
    'step.governance': 'governance history',
    'step.cosignature': 'cosignatures',
    'step.leaf-hash': 'entry hash',
    'step.signature': 'approval signatures',
    'step.target': 'reversed entry',
    'step.inclusion': 'inclusion proof',
    'step.amount': 'amount and details',
    'step.internal': 'internal error',

    'r.no-webcrypto': 'this browser or connection has no WebCrypto (HTTPS is needed)',
    'r.no-ed25519': 'this browser cannot verify Ed25519 signatures; please update it',
    'r.network': 'cannot reach the server ({path})',
    'r.http': 'the server answered {status} ({path})',
    'r.not-json': 'the server did not send JSON ({path})',
    'r.bad-seq': 'not an entry number',
    'r.bad-vkey': 'the log key is malformed',
    'r.pin-mismatch': 'the server’s log key is not the one remembered on this phone',
    'r.note-format': 'the checkpoint is malformed ({why})',
    'r.no-log-signature': 'the checkpoint carries no log key signature',
    'r.bad-log-signature': 'the log key signature on the checkpoint is invalid',
    'r.origin-mismatch': 'the checkpoint belongs to another ledger',
    'r.bad-cosignature': 'the cosignature by {name} is invalid',
    'r.not-base64': 'the entry data is not base64',
    'r.mismatch-claimed': 'the entry’s hash is not the one the server claims: its content was changed',
    'r.mismatch-proof': 'the entry’s hash is not the one the inclusion proof uses',
    'r.not-utf8': 'the entry is not valid UTF-8',
    'r.not-json-leaf': 'the entry is not valid JSON',
    'r.not-canonical': 'the entry is not in canonical (JCS) form',
    'r.wrong-seq': 'the entry number is not the one asked for',
    'r.wrong-ledger': 'the entry belongs to another ledger',
    'r.wrong-kind': 'the entry has the wrong kind',
    'r.no-signatures': 'the entry has no valid signature list',
    'r.unknown-key': 'key {key} held no role at the time',
    'r.bad-signature': 'the signature by {key} is invalid',
    'r.rule-unmet': 'not enough signatures from the {role}: {have} of {need}',
    'r.bad-proof': 'the inclusion proof is malformed',
    'r.root-mismatch': 'the inclusion proof does not lead to the signed root',
    'r.not-in-checkpoint': 'the entry is not in a checkpoint yet',
    'r.amount-mismatch': 'the amount shown, {shown}, is not the verified {verified}',
    'r.display-mismatch': 'what the page showed is not what was signed',
    'r.log-key-mismatch': 'the genesis entry names another log key',
    'r.roles-mismatch': 'the roles the server lists are not what the governance history gives',
    'r.bad-size': 'the ledger size the server states is not valid',
    'r.empty-log': 'the log is empty',
    'r.order': 'governance entries out of order',
    'r.not-reversible': 'the reversed entry cannot be reversed',
    'r.inner': 'entry {seq}: {inner}',
    'r.exception': '{message}',

    'footer.api': 'API',
    'footer.how': 'How it checks: this page recomputes entry hashes, Ed25519 signatures, inclusion proofs and the checkpoint signature with the browser’s own WebCrypto; the only thing to trust is the log key fingerprint on the notice board. Full audit: feeledger verify --url THIS-SITE --log-key KEY-FROM-THE-NOTICE-BOARD.',
  },
};

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const FUND_ORDER = ['operating', 'public_revenue', 'maintenance'];
const INCOME_CATEGORIES = ['property_fee', 'parking', 'advertising', 'venue_rental', 'interest', 'other'];
const EXPENSE_CATEGORIES = ['cleaning', 'security', 'greening', 'elevator', 'repairs', 'utilities', 'salaries', 'management_fee'];
const PAGE = 20;
const PIN_KEY = 'feeledger.logkey.v1';
const LANG_KEY = 'feeledger.lang';

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

const S = {
  lang: 'zh',
  ledger: null,
  balances: null,
  summary: null,
  checkpointText: null,
  newest: null,
  proposals: null,
  loadError: null,
  fingerprint: null, // {keyId, sha}
  pinned: null,
  chartFund: 'operating',
  list: { filters: { fund: '', category: '', month: '', payer: '' }, entries: [], next: null, loading: false, error: null, done: false },
  mine: { unit: '', entries: null, loading: false, error: null },
  entries: new Map(), // seq -> entry JSON as served
  results: new Map(), // seq -> verification result ({status:'running'} while running)
  pageResult: null,
  checkpointResult: null,
  banner: null, // seq of #verify=<seq>
};

const verifier = createVerifier({ pinnedLogKey: readPinned() });

function readPinned() {
  try {
    return localStorage.getItem(PIN_KEY);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function t(key, vars = {}) {
  const table = STRINGS[S.lang] || STRINGS.zh;
  const template = table[key] ?? STRINGS.zh[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (m, name) => (vars[name] === undefined || vars[name] === null ? m : String(vars[name])));
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(ns, tag, attrs, kids) {
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'value' && !ns) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** An HTML element; text children are always text nodes (never HTML). */
function h(tag, attrs, ...kids) {
  return build(null, tag, attrs, kids);
}

function svg(tag, attrs, ...kids) {
  return build(SVG_NS, tag, attrs, kids);
}

function mount(id, ...kids) {
  const el = document.getElementById(id);
  if (!el) return null;
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  return el;
}

/** Integer fen -> "¥1,234.56" (BigInt; no floating point). */
function yuan(fen, { sign = false } = {}) {
  if (fen === null || fen === undefined) return '—';
  let v = BigInt(fen);
  const neg = v < 0n;
  if (neg) v = -v;
  const whole = (v / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (v % 100n).toString().padStart(2, '0');
  return `${neg ? '−' : sign ? '+' : ''}¥${whole}.${cents}`;
}

/** Compact axis labels from fen: "12.5万" / "125k" (BigInt). */
function compactYuan(fen) {
  const y = BigInt(fen) / 100n;
  const oneDecimal = (n, d) => {
    const tenths = (n * 10n) / d;
    const s = `${tenths / 10n}`;
    return tenths % 10n === 0n ? s : `${s}.${tenths % 10n}`;
  };
  if (S.lang === 'zh') {
    if (y >= 100000000n) return `${oneDecimal(y, 100000000n)}亿`;
    if (y >= 10000n) return `${oneDecimal(y, 10000n)}万`;
    return `${y}`;
  }
  if (y >= 1000000n) return `${oneDecimal(y, 1000000n)}M`;
  if (y >= 1000n) return `${oneDecimal(y, 1000n)}k`;
  return `${y}`;
}

/** Basis points -> "84.20%" (integer math). */
function percent(bp) {
  if (!Number.isSafeInteger(bp)) return '—';
  return `${Math.trunc(bp / 100)}.${String(bp % 100).padStart(2, '0')}%`;
}

function bytesText(n) {
  if (!Number.isSafeInteger(n)) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = BigInt(n);
  let i = -1;
  let scaled = 0n;
  do {
    scaled = (v * 10n) / 1024n;
    v /= 1024n;
    i++;
  } while (v >= 1024n && i < units.length - 1);
  return `${scaled / 10n}.${scaled % 10n} ${units[i]}`;
}

function timeText(ms) {
  if (!Number.isSafeInteger(ms)) return '';
  const fmt = new Intl.DateTimeFormat(S.lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
  return fmt.format(new Date(ms));
}

function fundName(id) {
  const key = `fund.${id}`;
  if (STRINGS.zh[key]) return t(key);
  const f = S.ledger && (S.ledger.funds || []).find((x) => x.id === id);
  return f ? f.name : String(id);
}

function catName(id) {
  const key = `cat.${id}`;
  return STRINGS.zh[key] ? t(key) : String(id);
}

function roleName(role) {
  if (!role) return t('entry.former-key');
  const key = `role.${role}`;
  return STRINGS.zh[key] ? t(key) : String(role);
}

function groupHex(hex) {
  return hex.replace(/(.{4})(?=.)/g, '$1 ');
}

async function api(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) {
    let message = `${res.status}`;
    try {
      const j = await res.json();
      if (j && j.error && j.error.message) message = j.error.message;
    } catch {
      // not JSON
    }
    throw new Error(`${path}: ${message}`);
  }
  return res;
}

const getJson = async (path) => (await api(path)).json();
const getText = async (path) => (await api(path)).text();

function reportError(e) {
  const text = e && e.stack ? e.stack : String(e);
  const box = document.getElementById('js-errors');
  if (box) box.append(document.createTextNode(`${text}\n`));
  console.error(e);
}

// ---------------------------------------------------------------------------
// Rendering: header, navigation, footer
// ---------------------------------------------------------------------------

function renderChrome() {
  document.documentElement.lang = t('html.lang');
  const name = S.ledger ? S.ledger.name : 'feeledger';
  document.title = t('doc.title', { name });
  const skip = document.getElementById('skip');
  if (skip) skip.textContent = t('skip');
  mount(
    'top',
    h(
      'div',
      { class: 'top-row' },
      h('h1', { id: 'ledger-name' }, name),
      h(
        'button',
        { type: 'button', class: 'lang', lang: S.lang === 'zh' ? 'en' : 'zh-CN', 'aria-label': t('lang.switch-label'), onclick: switchLang },
        t('lang.switch'),
      ),
    ),
    h('p', { class: 'subtitle' }, t('app.subtitle')),
    S.loadError ? h('p', { class: 'alert', role: 'alert' }, t('app.load-failed', { message: S.loadError })) : null,
  );
  const nav = document.getElementById('nav');
  if (nav) nav.setAttribute('aria-label', t('nav.label'));
  mount(
    'nav',
    h(
      'ul',
      {},
      [
        ['balances-section', 'nav.balances'],
        ['trust-section', 'nav.trust'],
        ['chart-section', 'nav.chart'],
        ['mine-section', 'nav.mine'],
        ['proposals-section', 'nav.proposals'],
        ['entries-section', 'nav.entries'],
      ].map(([id, key]) => h('li', {}, h('a', { href: `#${id}`, onclick: (ev) => jump(ev, id) }, t(key)))),
    ),
  );
  mount(
    'footer',
    h('p', {}, t('footer.how')),
    h('p', {}, h('a', { href: '/api/openapi.json' }, t('footer.api')), ' · ', h('a', { href: '/checkpoint' }, 'checkpoint')),
  );
}

// In-page links would replace the #verify=… hash; scroll instead.
function jump(ev, id) {
  ev.preventDefault();
  const el = document.getElementById(id);
  if (el) {
    el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    el.focus({ preventScroll: true });
  }
}

function switchLang() {
  S.lang = S.lang === 'zh' ? 'en' : 'zh';
  try {
    localStorage.setItem(LANG_KEY, S.lang);
  } catch {
    // private mode
  }
  renderAll();
}

// ---------------------------------------------------------------------------
// Balances
// ---------------------------------------------------------------------------

function fundIds() {
  const ids = S.ledger ? (S.ledger.funds || []).map((f) => f.id) : [];
  const known = FUND_ORDER.filter((id) => ids.includes(id) || (S.balances && id in S.balances.balances_fen));
  const others = ids.filter((id) => !known.includes(id));
  return [...known, ...others];
}

function renderBalances() {
  if (!S.balances) {
    mount('balances-section', h('h2', { tabindex: '-1' }, t('balances.title')), h('p', { class: 'muted' }, t('app.loading')));
    return;
  }
  const fen = S.balances.balances_fen || {};
  let total = 0n;
  const cards = fundIds().map((id) => {
    const v = fen[id] ?? 0;
    total += BigInt(v);
    return h(
      'div',
      { class: `fund fund-${id}`, id: `balance-${id}`, 'data-fund': id, 'data-fen': String(v) },
      h('div', { class: 'fund-name' }, fundName(id)),
      h('div', { class: 'fund-amount' }, yuan(v)),
    );
  });
  mount(
    'balances-section',
    h('h2', { tabindex: '-1' }, t('balances.title')),
    h('div', { class: 'funds' }, cards),
    h(
      'p',
      { class: 'muted small' },
      `${t('balances.total')} ${yuan(total)} · ${t('balances.note', { size: S.balances.size })}`,
    ),
  );
}

// ---------------------------------------------------------------------------
// Trust: checkpoint, cosigners, fingerprint, verify page
// ---------------------------------------------------------------------------

function roleOfKeyName(name) {
  if (!S.ledger) return null;
  for (const [role, def] of Object.entries(S.ledger.roles || {})) {
    if ((def.keys || []).some((k) => k.name === name)) return role;
  }
  for (const w of S.ledger.witness_keys || []) {
    if (w.split('+')[0] === name) return 'witness';
  }
  return null;
}

function parsedCheckpoint(text = S.checkpointText) {
  if (!text) return null;
  try {
    const note = parseNote(text);
    return { note, cp: parseCheckpoint(note.text) };
  } catch {
    return null;
  }
}

function renderTrust() {
  const verified = S.checkpointResult && S.checkpointResult.ok ? S.checkpointResult.context : null;
  // Once verified, show the very note the verifier checked (not the one
  // fetched at load), and tick a cosigner only for a line whose name and
  // key id verified.
  const parsed = parsedCheckpoint(verified ? verified.noteText : S.checkpointText);
  const verifiedIds = new Set(verified ? verified.cosignatures.map((c) => `${c.name}+${c.keyId}`) : []);
  const logName = S.ledger ? S.ledger.origin : '';

  let cpBlock;
  if (!parsed) {
    cpBlock = h('p', { class: 'muted' }, S.checkpointText === null ? t('app.loading') : t('r.note-format', { why: '' }));
  } else {
    const groups = new Map();
    for (const s of parsed.note.signatures) {
      if (s.name === logName) continue;
      const role = roleOfKeyName(s.name) || 'unknown';
      if (!groups.has(role)) groups.set(role, []);
      groups.get(role).push(s);
    }
    const order = ['company', 'committee', 'supervisor', 'witness', 'unknown'];
    const rows = order
      .filter((r) => groups.has(r))
      .map((role) => {
        const names = groups.get(role);
        const committeeTotal = role === 'committee' && S.ledger && S.ledger.roles.committee ? S.ledger.roles.committee.keys.length : 0;
        return h(
          'li',
          { 'data-role': role },
          h('span', { class: 'role' }, role === 'unknown' ? t('trust.unknown') : roleName(role)),
          role === 'committee' ? t('trust.committee-count', { have: names.length, total: committeeTotal }) : '',
          t('colon'),
          names.map((s) => {
            const ok = verifiedIds.has(`${s.name}+${s.keyId}`);
            return h('span', { class: 'key-name', 'data-verified': ok ? 'true' : null }, s.name, ok ? ' ✓' : '');
          }),
        );
      });
    const logSigned = parsed.note.signatures.some((s) => s.name === logName);
    const logRow = logSigned
      ? h(
          'li',
          { 'data-role': 'log', 'data-verified': verified ? 'true' : null },
          h('span', { class: 'role' }, t('trust.log-key-label')),
          ' ',
          t('trust.log-signature', { keyid: S.fingerprint && S.fingerprint.keyId ? groupHex(S.fingerprint.keyId) : '—' }),
          verified ? ' ✓' : '',
        )
      : h('li', { class: 'alert' }, t('r.no-log-signature'));
    cpBlock = h(
      'div',
      { class: 'checkpoint', id: 'checkpoint', 'data-size': String(parsed.cp.size) },
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('trust.checkpoint')),
        h('dd', { class: 'big' }, t('trust.size', { size: parsed.cp.size.toLocaleString('en-US') })),
        h('dt', {}, t('trust.time')),
        h('dd', { id: 'checkpoint-time' }, S.newest ? timeText(S.newest.leaf.time) : '…'),
        h('dt', {}, t('trust.root')),
        h('dd', { class: 'hash' }, groupHex(toHex(parsed.cp.root).slice(0, 16)), '…'),
      ),
      h('h3', {}, t('trust.signatures')),
      h('ul', { class: 'cosigners' }, logRow, rows.length ? rows : h('li', { class: 'muted' }, t('trust.no-cosignatures'))),
    );
  }

  mount(
    'trust-section',
    h('h2', { tabindex: '-1' }, t('trust.title')),
    cpBlock,
    renderFingerprint(),
    h('p', { class: 'muted small' }, t('trust.verify-page-help')),
    h('button', { type: 'button', class: 'primary', id: 'verify-page', onclick: () => verifyPage() }, t('trust.verify-page')),
    renderPageResult(),
  );
}

function renderFingerprint() {
  if (!S.ledger) return null;
  const key = S.ledger.log_key;
  const fp = S.fingerprint;
  const badKey = Boolean(fp && fp.bad);
  const mismatch = S.pinned && S.pinned !== key;
  return h(
    'div',
    { class: `fingerprint${mismatch || badKey ? ' danger' : ''}`, id: 'fingerprint', 'data-key-id': fp ? fp.keyId : null },
    h('h3', {}, t('fp.title')),
    badKey ? h('p', { class: 'alert', role: 'alert', id: 'fp-bad' }, t('fp.bad-key')) : null,
    mismatch ? h('p', { class: 'alert', role: 'alert' }, t('fp.pin-mismatch')) : null,
    h('p', { class: 'small' }, t('fp.help')),
    h(
      'dl',
      { class: 'fp' },
      h('dt', {}, t('fp.keyid')),
      h('dd', { class: 'fp-big', id: 'fp-keyid' }, fp && fp.keyId ? groupHex(fp.keyId) : badKey ? '—' : '…'),
      h('dt', {}, t('fp.sha')),
      h('dd', { class: 'fp-big', id: 'fp-sha' }, fp ? (fp.sha ? groupHex(fp.sha) : t('fp.unavailable')) : '…'),
      h('dt', {}, t('fp.name')),
      h('dd', { class: 'mono small' }, key.split('+')[0]),
    ),
    h('details', {}, h('summary', {}, t('fp.full')), h('code', { class: 'vkey' }, key)),
    S.pinned === key
      ? h('p', { class: 'small ok-text' }, '✓ ', t('fp.pinned'), ' ', h('button', { type: 'button', class: 'link', onclick: () => pin(null) }, t('fp.unpin')))
      : mismatch
        ? h('button', { type: 'button', class: 'link', onclick: () => pin(null) }, t('fp.unpin'))
        : h('button', { type: 'button', onclick: () => pin(key) }, t('fp.pin')),
  );
}

function pin(key) {
  try {
    if (key) localStorage.setItem(PIN_KEY, key);
    else localStorage.removeItem(PIN_KEY);
  } catch {
    // storage unavailable: pin for this visit only
  }
  S.pinned = key;
  verifier.setPinned(key);
  S.checkpointResult = null;
  renderTrust();
}

// The key id shown is computed from the key itself, never taken from the
// served text: a server could label its own key with the id on the notice
// board. Without WebCrypto (plain HTTP) nothing can be computed, and the
// served id is shown as the server states it.
async function computeFingerprint() {
  const key = S.ledger.log_key;
  let keyId = null;
  let bad = false;
  try {
    keyId = (await parseVkey(key)).keyId;
  } catch (e) {
    if (e instanceof VerifyError && e.reason === 'bad-vkey') {
      bad = true;
    } else {
      const parts = key.split('+');
      keyId = parts.length >= 3 ? parts[1] : null;
    }
  }
  let sha = null;
  try {
    sha = toHex((await sha256(utf8(key))).subarray(0, 8));
  } catch {
    sha = null;
  }
  S.fingerprint = { keyId, sha, bad };
}

// ---------------------------------------------------------------------------
// Verification results
// ---------------------------------------------------------------------------

function reasonText(f) {
  if (!f) return '';
  const p = { ...(f.params || {}) };
  if (f.reason === 'inner') {
    const inner = { step: p.innerStep, reason: p.innerReason, params: p.inner };
    return t('r.inner', { seq: p.seq, inner: `${t(`step.${inner.step}`)} — ${reasonText(inner)}` });
  }
  if (f.reason === 'rule-unmet') p.role = roleName(p.role);
  if (f.reason === 'amount-mismatch') {
    p.shown = p.shown === null ? '—' : yuan(p.shown);
    p.verified = p.verified === null ? '—' : yuan(p.verified);
  }
  let key = `r.${f.reason}`;
  if (f.reason === 'not-json' && f.step !== 'fetch') key = 'r.not-json-leaf';
  return t(key, p);
}

function stepWhat(s) {
  const p = s.params || {};
  switch (s.step) {
    case 'log-key':
      return t('v.what.log-key', { keyId: p.keyId });
    case 'checkpoint':
      return t('v.what.checkpoint', { size: p.size });
    case 'governance':
      return t(p.rolesCompared === false ? 'v.what.governance-uncompared' : 'v.what.governance', { count: p.count });
    case 'cosignature':
      return t('v.what.cosignature', { names: (p.cosignatures || []).map((c) => `${roleName(c.role)} ${c.name}`).join('、') || '—' });
    case 'leaf-hash':
      return t('v.what.leaf-hash', { hash: (p.hash || '').slice(0, 12) });
    case 'signature':
      return t('v.what.signature', { names: (p.signers || []).map((x) => `${roleName(x.role)} ${x.key}`).join('、') });
    default:
      return t(`v.what.${s.step}`, p);
  }
}

function statusOf(result) {
  if (!result || result.status === 'running') return 'running';
  if (result.ok) return 'verified';
  return result.failed && result.failed.step === 'crypto' ? 'unsupported' : 'failed';
}

/** The box showing one result; `id` for the test hooks. */
function resultBox(result, id = null, seq = null) {
  const status = statusOf(result);
  const attrs = {
    class: `vresult ${status}`,
    id,
    role: 'status',
    'aria-live': 'polite',
    'data-status': status === 'unsupported' ? 'failed' : status,
    'data-step': result && result.failed ? result.failed.step : null,
    'data-reason': result && result.failed ? result.failed.reason : null,
    'data-seq': seq === null ? null : String(seq),
  };
  if (status === 'running') return h('div', attrs, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('v.running'));
  const steps = (result.steps || []).map((s) => h('li', {}, '✓ ', stepWhat(s)));
  if (result.ok) {
    return h(
      'div',
      attrs,
      h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✓'), t('v.verified')),
      result.amountFen !== undefined && result.amountFen !== null
        ? h('p', { class: 'vamount small', 'data-verified-amount-fen': String(result.amountFen) }, t('v.amount', { amount: yuan(result.amountFen) }))
        : null,
      h(
        'details',
        {},
        h('summary', {}, t('v.details')),
        result.checkpoint ? h('p', { class: 'small' }, t('v.checkpoint', { size: result.checkpoint.size, keyid: result.logKeyId })) : null,
        h('ol', { class: 'steps' }, steps),
      ),
    );
  }
  const f = result.failed;
  return h(
    'div',
    attrs,
    h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✗'), status === 'unsupported' ? t('v.unsupported') : t('v.failed')),
    h('p', {}, t('v.failed-at', { step: t(`step.${f.step}`), reason: reasonText(f) })),
    steps.length ? h('details', {}, h('summary', {}, t('v.details')), h('ol', { class: 'steps' }, steps)) : null,
  );
}

function renderPageResult() {
  const r = S.pageResult;
  if (!r) return null;
  const status = r.status === 'running' ? 'running' : r.ok ? 'verified' : 'failed';
  const attrs = {
    id: 'verify-all-result',
    class: `vresult ${status}`,
    role: 'status',
    'aria-live': 'polite',
    'data-status': status,
    'data-step': r.failed ? r.failed.step : null,
    'data-reason': r.failed ? r.failed.reason : null,
    'data-count': r.count === undefined ? null : String(r.count),
    'data-seq': r.failedSeq === undefined ? null : String(r.failedSeq),
  };
  if (status === 'running') return h('div', attrs, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('trust.verify-all-running'));
  if (r.ok) {
    return h('div', attrs, h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✓'), t('v.verified')), h('p', {}, t('trust.verify-all-ok', { size: r.size, count: r.count })));
  }
  const what = `${r.failedSeq !== undefined ? `${t('entry.seq', { seq: r.failedSeq })} · ` : ''}${t(`step.${r.failed.step}`)} — ${reasonText(r.failed)}`;
  return h('div', attrs, h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✗'), t('v.failed')), h('p', {}, t('trust.verify-all-failed', { what })));
}

async function verifyOne(seq) {
  S.results.set(seq, { status: 'running' });
  refreshSeq(seq);
  const shown = S.entries.get(seq);
  const result = await verifier.verifyEntry(seq, shown ? shown.leaf : null);
  recordResult(seq, result);
  return result;
}

async function verifyPage() {
  if (S.pageResult && S.pageResult.status === 'running') return;
  S.pageResult = { status: 'running' };
  renderTrust();
  const cp = await verifier.verifyCheckpoint(true);
  S.checkpointResult = cp;
  if (!cp.ok) {
    S.pageResult = { ok: false, failed: cp.failed };
    renderTrust();
    return;
  }
  const seqs = [...new Set([...document.querySelectorAll('[data-card-seq]')].map((el) => Number(el.getAttribute('data-card-seq'))))];
  let next = 0;
  let failed = null;
  const worker = async () => {
    while (next < seqs.length) {
      const seq = seqs[next++];
      const r = await verifyOne(seq);
      if (!r.ok && (!failed || seq > failed.seq)) failed = { seq, failed: r.failed };
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  S.pageResult = failed
    ? { ok: false, failed: failed.failed, failedSeq: failed.seq, count: seqs.length }
    : { ok: true, size: cp.context.checkpoint.size, count: seqs.length };
  renderTrust();
}

// ---------------------------------------------------------------------------
// Entries in plain words
// ---------------------------------------------------------------------------

function describe(body) {
  switch (body.kind) {
    case 'income':
      return {
        what: t('entry.paid-by', { payer: body.payer, category: catName(body.category) }),
        detail: [t('entry.period', { period: body.period }), t('entry.into', { fund: fundName(body.fund) })],
        direction: 'in',
      };
    case 'expenditure':
      return {
        what: t('entry.paid-to', { payee: body.payee }),
        detail: [catName(body.category), t('entry.from-fund', { fund: fundName(body.fund) })],
        direction: 'out',
      };
    case 'transfer':
      return { what: t('entry.transfer', { from: fundName(body.from_fund), to: fundName(body.to_fund) }), detail: [], direction: 'move' };
    case 'reversal':
      return { what: t('entry.reversal', { target: body.target_seq }), detail: [t('entry.reason', { reason: body.reason })], direction: 'undo' };
    case 'genesis':
      return { what: t('entry.genesis', { name: body.name }), detail: [], direction: 'none' };
    case 'governance':
      return { what: t('entry.governance'), detail: [], direction: 'none' };
    default:
      return { what: String(body.kind), detail: [], direction: 'none' };
  }
}

function signersLine(signatures, signersFromServer, verifiedSigners) {
  const roleOf = new Map();
  for (const s of signersFromServer || []) roleOf.set(s.key, s.role);
  for (const s of verifiedSigners || []) roleOf.set(s.key, s.role);
  const groups = new Map();
  for (const s of signatures || []) {
    const role = roleOf.has(s.key) ? roleOf.get(s.key) : roleOfKeyName(s.key);
    const label = roleName(role);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(s.key);
  }
  return [...groups.entries()].map(([label, keys]) => h('span', { class: 'signer' }, h('b', {}, label), ' ', keys.map((k, i) => [i ? ', ' : '', h('span', { class: 'key-name' }, k)])));
}

function rolesList(roles) {
  return h(
    'ul',
    { class: 'plain small' },
    Object.entries(roles || {}).map(([role, def]) =>
      h('li', {}, t('entry.roles-now', { role: roleName(role), names: (def.keys || []).map((k) => k.name).join(', '), threshold: def.threshold })),
    ),
  );
}

/** Amount shown on a card: from the verified leaf when there is one. */
function cardAmount(entry, result) {
  if (result && result.ok) return result.amountFen;
  const body = entry.leaf.body;
  if (body.kind === 'reversal') {
    const target = S.entries.get(body.target_seq);
    return target ? amountFen(body, target.leaf) : null;
  }
  return amountFen(body, null);
}

function renderCard(entry, { compact = false } = {}) {
  const seq = entry.seq;
  const result = S.results.get(seq);
  // Once verified, the card shows the verified leaf, not the served JSON.
  const leaf = result && result.ok ? result.leaf : entry.leaf;
  const body = leaf.body;
  const d = describe(body);
  const amount = cardAmount(entry, result);
  const extra = [];
  if (body.kind === 'reversal') {
    const target = result && result.ok && result.target ? result.target : (S.entries.get(body.target_seq) || {}).leaf;
    if (target) {
      extra.push(
        h(
          'p',
          { class: 'small reversal-of' },
          t('entry.reversal-of', { what: describe(target.body).what, amount: yuan(amountFen(target.body, null)), date: target.body.date }),
        ),
      );
    }
  }
  if (body.memo) extra.push(h('p', { class: 'memo' }, body.memo));
  if (body.kind === 'governance' && body.roles) extra.push(rolesList(body.roles));
  if (body.kind === 'genesis') extra.push(rolesList(body.roles));
  const approval = body.owners_approval;
  if (approval) {
    extra.push(
      h(
        'div',
        { class: 'approval' },
        h('b', {}, t('entry.approval'), ' '),
        t('entry.decision', { ref: approval.decision_ref }),
        h(
          'p',
          { class: 'small' },
          t('entry.approval-line', {
            pa: percent(approval.participating_area_bp),
            ph: percent(approval.participating_headcount_bp),
            aa: percent(approval.approving_area_bp),
            ah: percent(approval.approving_headcount_bp),
          }),
        ),
      ),
    );
  }
  if (Array.isArray(body.attachments) && body.attachments.length) {
    extra.push(
      h(
        'div',
        { class: 'attachments' },
        h('b', {}, t('entry.attachments')),
        h(
          'ul',
          { class: 'plain' },
          body.attachments.map((a) => h('li', {}, `${a.name} (${bytesText(a.bytes)})`, h('div', { class: 'hash' }, 'SHA-256 ', groupHex(String(a.sha256))))),
        ),
      ),
    );
  }
  if (entry.reversed_by !== null && entry.reversed_by !== undefined) {
    const rev = S.entries.get(entry.reversed_by);
    // The server says so; it counts as verified only once the reversing
    // entry itself verified and names this one.
    const revResult = S.results.get(entry.reversed_by);
    const revVerified = Boolean(revResult && revResult.ok && revResult.leaf.body.target_seq === entry.seq);
    extra.push(
      h(
        'p',
        { class: 'reversed', 'data-reversed-by': String(entry.reversed_by), 'data-verified': revVerified ? 'true' : null },
        rev ? t('entry.reversed-reason', { by: entry.reversed_by, reason: rev.leaf.body.reason }) : t('entry.reversed', { by: entry.reversed_by }),
        revVerified ? '' : t('entry.reversal-unverified'),
      ),
    );
  }
  const dirClass = { in: 'in', out: 'out', move: 'move', undo: 'undo', none: 'none' }[d.direction];
  const amountText = amount === null || amount === undefined ? '' : d.direction === 'in' ? yuan(amount, { sign: true }) : d.direction === 'out' ? yuan(-amount) : yuan(amount);
  return h(
    'article',
    {
      class: `entry kind-${body.kind}${entry.reversed_by !== null && entry.reversed_by !== undefined ? ' is-reversed' : ''}`,
      'data-card-seq': String(seq),
      'data-compact': compact ? 'true' : null,
      'data-kind': body.kind,
      'data-amount-fen': amount === null || amount === undefined ? null : String(amount),
      'aria-labelledby': `entry-${seq}-title`,
      tabindex: '-1',
    },
    h(
      'div',
      { class: 'entry-head' },
      h('span', { class: `badge ${dirClass}` }, t(`kind.${body.kind}`)),
      h('span', { class: 'date' }, body.date),
      h('span', { class: 'seq' }, `#${seq}`),
    ),
    h(
      'div',
      { class: 'entry-main' },
      h('h3', { class: 'what', id: `entry-${seq}-title` }, d.what),
      amountText ? h('div', { class: `amount ${dirClass}` }, amountText) : null,
    ),
    d.detail.length ? h('p', { class: 'detail' }, d.detail.join(' · ')) : null,
    extra,
    compact
      ? null
      : h('p', { class: 'signers small' }, h('span', { class: 'muted' }, t('entry.signers'), t('colon')), signersLine(leaf.signatures, entry.signers, result && result.ok ? result.signers : null)),
    compact ? null : h('p', { class: 'muted small' }, t('entry.recorded', { time: timeText(leaf.time) })),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'verify', onclick: () => verifyOne(seq), 'aria-describedby': `entry-${seq}-title` },
        t('entry.verify'),
      ),
      h(
        'a',
        { class: 'receipt', href: `/api/v1/entries/${seq}/receipt`, download: `feeledger-receipt-${seq}${body.payer ? `-${body.payer}` : ''}.txt` },
        t('entry.receipt'),
      ),
    ),
    result ? resultBox(result, null, seq) : null,
  );
}

/** Re-renders every card of `seq` in place (list, my payments, banner). */
function recordResult(seq, result) {
  S.results.set(seq, result);
  refreshSeq(seq);
  // A verified reversal is what lets its target show "reversed" as verified.
  if (result.ok && result.leaf.body.kind === 'reversal') refreshSeq(result.leaf.body.target_seq);
}

function refreshSeq(seq) {
  const entry = S.entries.get(seq);
  for (const el of document.querySelectorAll(`[data-card-seq="${seq}"]`)) {
    if (entry) el.replaceWith(renderCard(entry, { compact: el.hasAttribute('data-compact') }));
  }
  if (S.banner === seq) renderBanner();
}

function remember(entries) {
  for (const e of entries) S.entries.set(e.seq, e);
  // Reversals name their targets, reversed entries their reversals:
  // fetch those for the words ("reversed by 1270: duplicate entry").
  const wanted = new Set();
  for (const e of entries) {
    if (e.reversed_by !== null && e.reversed_by !== undefined && !S.entries.has(e.reversed_by)) wanted.add(e.reversed_by);
    if (e.leaf.body.kind === 'reversal' && !S.entries.has(e.leaf.body.target_seq)) wanted.add(e.leaf.body.target_seq);
  }
  for (const seq of wanted) {
    getJson(`/api/v1/entries/${seq}`)
      .then((e) => {
        S.entries.set(e.seq, e);
        for (const other of S.entries.values()) {
          if (other.reversed_by === seq || (other.leaf.body.kind === 'reversal' && other.leaf.body.target_seq === seq)) refreshSeq(other.seq);
        }
      })
      .catch(reportError);
  }
}

// ---------------------------------------------------------------------------
// Chart
// ---------------------------------------------------------------------------

function monthly(fund) {
  const months = (S.summary && S.summary.months) || [];
  return months.map((m) => {
    let income = 0n;
    let spending = 0n;
    for (const row of m.totals || []) {
      if (row.fund !== fund) continue;
      income += BigInt(row.income_fen);
      spending += BigInt(row.spending_fen);
    }
    return { month: m.month, income, spending };
  });
}

function niceTop(max) {
  // Smallest 1/2/5 x 10^k (in fen) whose four steps reach max.
  if (max <= 0n) return 100n;
  let p = 100n;
  for (;;) {
    for (const m of [1n, 2n, 5n]) {
      if (m * p * 4n >= max) return m * p * 4n;
    }
    p *= 10n;
  }
}

function monthLabel(month) {
  const m = Number(month.slice(5, 7));
  return S.lang === 'zh' ? t('chart.month-label', { m }) : MONTHS_EN[m - 1] || month;
}

function renderChart() {
  const funds = fundIds();
  if (!funds.includes(S.chartFund) && funds.length) S.chartFund = funds[0];
  const rows = monthly(S.chartFund).slice(-12);
  const select = h(
    'select',
    {
      id: 'chart-fund',
      onchange: (ev) => {
        S.chartFund = ev.target.value;
        renderChart();
        document.getElementById('chart-fund')?.focus();
      },
    },
    funds.map((id) => h('option', { value: id, selected: id === S.chartFund }, fundName(id))),
  );
  const header = [h('h2', { tabindex: '-1' }, t('chart.title')), h('div', { class: 'field inline' }, h('label', { for: 'chart-fund' }, t('chart.fund')), select)];
  if (!S.summary) {
    mount('chart-section', header, h('p', { class: 'muted' }, t('app.loading')));
    return;
  }
  if (!rows.length) {
    mount('chart-section', header, h('p', { class: 'muted' }, t('chart.empty')));
    return;
  }
  const W = 360;
  const H = 220;
  const left = 44;
  const right = 6;
  const top = 10;
  const bottom = 26;
  const plotH = H - top - bottom;
  const plotW = W - left - right;
  const clamp = (v) => (v < 0n ? 0n : v);
  let max = 0n;
  for (const r of rows) {
    if (clamp(r.income) > max) max = clamp(r.income);
    if (clamp(r.spending) > max) max = clamp(r.spending);
  }
  const topValue = niceTop(max);
  const y = (v) => top + plotH - Number((clamp(v) * BigInt(plotH)) / topValue);
  const slot = plotW / rows.length;
  const barW = Math.max(2, Math.floor(slot / 2) - 2);
  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const v = (topValue * BigInt(i)) / 4n;
    const yy = y(v);
    parts.push(svg('line', { x1: left, x2: W - right, y1: yy, y2: yy, class: 'grid' }));
    parts.push(svg('text', { x: left - 4, y: yy + 4, class: 'axis', 'text-anchor': 'end' }, compactYuan(v)));
  }
  rows.forEach((r, i) => {
    const x0 = left + slot * i + (slot - 2 * barW - 2) / 2;
    const yi = y(r.income);
    const ys = y(r.spending);
    parts.push(
      svg('rect', { x: x0.toFixed(1), y: yi, width: barW, height: top + plotH - yi, class: 'bar income' }, svg('title', {}, `${r.month} ${t('chart.income')} ${yuan(r.income)}`)),
      svg('rect', { x: (x0 + barW + 2).toFixed(1), y: ys, width: barW, height: top + plotH - ys, class: 'bar spending' }, svg('title', {}, `${r.month} ${t('chart.spending')} ${yuan(r.spending)}`)),
      svg('text', { x: (left + slot * i + slot / 2).toFixed(1), y: H - 8, class: 'axis', 'text-anchor': 'middle' }, monthLabel(r.month)),
    );
  });
  const from = rows[0].month;
  const to = rows[rows.length - 1].month;
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': t('chart.aria', { fund: fundName(S.chartFund), from, to }), 'data-fund': S.chartFund },
    parts,
  );
  let inTotal = 0n;
  let outTotal = 0n;
  for (const r of rows) {
    inTotal += r.income;
    outTotal += r.spending;
  }
  const legend = h(
    'p',
    { class: 'legend' },
    h('span', { class: 'item' }, h('span', { class: 'key income' }, ''), ` ${t('chart.income')} ${yuan(inTotal)}`),
    h('span', { class: 'item' }, h('span', { class: 'key spending' }, ''), ` ${t('chart.spending')} ${yuan(outTotal)}`),
    h('span', { class: 'item muted' }, `${from} – ${to}`),
  );
  const table = h(
    'details',
    {},
    h('summary', {}, t('chart.table')),
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('chart.month')), h('th', { scope: 'col' }, t('chart.income')), h('th', { scope: 'col' }, t('chart.spending')))),
      h(
        'tbody',
        {},
        rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.month), h('td', {}, yuan(r.income)), h('td', {}, yuan(r.spending)))),
        h('tr', { class: 'total' }, h('th', { scope: 'row' }, t('chart.total')), h('td', {}, yuan(inTotal)), h('td', {}, yuan(outTotal))),
      ),
    ),
  );
  mount('chart-section', header, legend, chart, table);
}

// ---------------------------------------------------------------------------
// My payments
// ---------------------------------------------------------------------------

function renderMine() {
  const m = S.mine;
  const form = h(
    'form',
    { class: 'unit-form', onsubmit: (ev) => { ev.preventDefault(); loadMine(ev.target.elements.unit.value.trim()); } },
    h('label', { for: 'mine-unit' }, t('mine.unit')),
    h(
      'div',
      { class: 'row' },
      h('input', { id: 'mine-unit', name: 'unit', type: 'text', inputmode: 'text', autocomplete: 'off', placeholder: '3-1502', value: m.unit, maxlength: '100' }),
      h('button', { type: 'submit', class: 'primary' }, t('mine.show')),
    ),
  );
  let out = null;
  if (m.loading) out = h('p', { class: 'muted' }, t('app.loading'));
  else if (m.error) out = h('p', { class: 'alert' }, m.error);
  else if (m.entries) {
    if (!m.entries.length) out = h('p', {}, t('mine.none', { unit: m.unit }));
    else {
      let total = 0n;
      for (const e of m.entries) if (e.leaf.body.kind === 'income' && e.reversed_by === null) total += BigInt(e.leaf.body.amount_fen);
      out = h(
        'div',
        { id: 'mine-list' },
        h('p', { class: 'small' }, t('mine.count', { unit: m.unit, count: m.entries.length, total: yuan(total) })),
        m.entries.map((e) => renderCard(e, { compact: true })),
      );
    }
  }
  mount('mine-section', h('h2', { tabindex: '-1' }, t('mine.title')), h('p', { class: 'small muted' }, t('mine.help')), form, out);
}

async function loadMine(unit) {
  S.mine = { unit, entries: null, loading: !!unit, error: null };
  renderMine();
  if (!unit) return;
  try {
    const all = [];
    let from = null;
    for (let i = 0; i < 10; i++) {
      const page = await getJson(`/api/v1/payers/${encodeURIComponent(unit)}/entries?order=desc&limit=500${from === null ? '' : `&from=${from}`}`);
      all.push(...page.entries);
      if (page.next === null || page.next === undefined) break;
      from = page.next;
    }
    remember(all);
    S.mine = { unit, entries: all, loading: false, error: null };
  } catch (e) {
    S.mine = { unit, entries: null, loading: false, error: String(e.message || e) };
  }
  renderMine();
}

// ---------------------------------------------------------------------------
// Proposals
// ---------------------------------------------------------------------------

function renderProposals() {
  const title = h('h2', { tabindex: '-1' }, t('proposals.title'));
  const help = h('p', { class: 'small muted' }, t('proposals.help'));
  if (!S.proposals) {
    mount('proposals-section', title, help, h('p', { class: 'muted' }, t('app.loading')));
    return;
  }
  if (!S.proposals.length) {
    mount('proposals-section', title, help, h('p', { id: 'proposals-none' }, t('proposals.none')));
    return;
  }
  const cards = S.proposals.map((p) => {
    const body = p.body;
    const d = describe(body);
    const amount = amountFen(body, null);
    const status = p.status || {};
    return h(
      'article',
      { class: `entry proposal kind-${body.kind}`, 'data-proposal': p.id },
      h('div', { class: 'entry-head' }, h('span', { class: 'badge pending' }, t(`kind.${body.kind}`)), h('span', { class: 'date' }, body.date)),
      h('div', { class: 'entry-main' }, h('h3', { class: 'what' }, d.what), amount !== null ? h('div', { class: 'amount' }, yuan(amount)) : null),
      d.detail.length ? h('p', { class: 'detail' }, d.detail.join(' · ')) : null,
      body.memo ? h('p', { class: 'memo' }, body.memo) : null,
      status.progress
        ? h(
            'ul',
            { class: 'progress' },
            status.progress.map((x) =>
              h('li', { class: x.have >= x.need ? 'done' : 'todo' }, `${roleName(x.role)} ${x.have}/${x.need}`, x.have >= x.need ? ' ✓' : ''),
            ),
          )
        : null,
      status.blocked ? h('p', { class: 'alert small' }, t('proposals.blocked', { message: status.blocked.message })) : null,
      h('p', { class: 'small muted' }, t('proposals.signed', { names: (p.signatures || []).map((s) => s.key).join(', ') || '—' })),
      h('p', { class: 'small muted' }, t('proposals.created', { time: timeText(p.created_ms) }), ' · ', t('proposals.id'), ' ', h('code', {}, String(p.id).slice(0, 12))),
    );
  });
  mount('proposals-section', title, help, cards);
}

// ---------------------------------------------------------------------------
// Entry list
// ---------------------------------------------------------------------------

function listQuery(from) {
  const f = S.list.filters;
  const q = new URLSearchParams({ order: 'desc', limit: String(PAGE) });
  for (const k of ['fund', 'category', 'month', 'payer']) if (f[k]) q.set(k, f[k]);
  if (from !== null && from !== undefined) q.set('from', String(from));
  return `/api/v1/entries?${q}`;
}

async function loadList(reset) {
  if (S.list.loading) return;
  if (reset) S.list = { ...S.list, entries: [], next: null, done: false, error: null };
  const before = S.list.entries.length;
  S.list.loading = true;
  renderEntries();
  try {
    const page = await getJson(listQuery(reset ? null : S.list.next));
    remember(page.entries);
    S.list.entries.push(...page.entries);
    S.list.next = page.next ?? null;
    S.list.done = page.next === null || page.next === undefined;
  } catch (e) {
    S.list.error = String(e.message || e);
  }
  S.list.loading = false;
  renderEntries();
  // After "load more", move focus to the first new entry (not to the top).
  if (!reset && document.activeElement === document.body) {
    const cards = document.querySelectorAll('#entry-list > article');
    if (cards[before]) cards[before].focus({ preventScroll: true });
  }
}

function renderEntries() {
  const f = S.list.filters;
  const months = S.summary ? S.summary.months.map((m) => m.month).reverse() : [];
  const sel = (id, name, options) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, t(`entries.${name}`)),
      h('select', { id, name }, h('option', { value: '' }, t('entries.all')), options.map(([v, label]) => h('option', { value: v, selected: f[name === 'unit' ? 'payer' : name] === v }, label))),
    );
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': t('entries.filters'),
      onsubmit: (ev) => {
        ev.preventDefault();
        const el = ev.target.elements;
        S.list.filters = { fund: el.fund.value, category: el.category.value, month: el.month.value, payer: el.payer.value.trim() };
        loadList(true);
      },
    },
    sel('f-fund', 'fund', fundIds().map((id) => [id, fundName(id)])),
    sel('f-category', 'category', [...INCOME_CATEGORIES, ...EXPENSE_CATEGORIES].map((c) => [c, catName(c)])),
    sel('f-month', 'month', months.map((m) => [m, m])),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'f-payer' }, t('entries.unit')),
      h('input', { id: 'f-payer', name: 'payer', type: 'text', placeholder: '3-1502', value: f.payer, autocomplete: 'off', maxlength: '100' }),
    ),
    h(
      'div',
      { class: 'field buttons' },
      h('button', { type: 'submit', class: 'primary' }, t('entries.apply')),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            S.list.filters = { fund: '', category: '', month: '', payer: '' };
            loadList(true);
          },
        },
        t('entries.clear'),
      ),
    ),
  );
  const l = S.list;
  const status = [];
  if (l.error) status.push(h('p', { class: 'alert' }, l.error));
  if (!l.loading && !l.error && !l.entries.length) status.push(h('p', {}, t('entries.none')));
  if (l.entries.length) status.push(h('p', { class: 'muted small' }, t('entries.count', { count: l.entries.length })));
  if (l.loading) status.push(h('p', { class: 'muted' }, t('app.loading')));
  else if (!l.done && l.entries.length) status.push(h('button', { type: 'button', class: 'more', onclick: () => loadList(false) }, t('entries.more')));
  else if (l.done && l.entries.length) status.push(h('p', { class: 'muted small' }, t('entries.end')));
  mount('entries-section', h('h2', { tabindex: '-1' }, t('entries.title')), form, h('div', { id: 'entry-list' }, l.entries.map(renderCard)), status);
}

// ---------------------------------------------------------------------------
// #verify=<seq> banner
// ---------------------------------------------------------------------------

function renderBanner() {
  const el = document.getElementById('verify-banner');
  if (!el) return;
  if (S.banner === null) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.hidden = false;
  const seq = S.banner;
  const result = S.results.get(seq) || { status: 'running' };
  el.setAttribute('data-status', statusOf(result));
  const entry = S.entries.get(seq) || (result.ok ? { seq, leaf: result.leaf, signers: result.signers, reversed_by: null } : null);
  mount('verify-banner', h('h2', { tabindex: '-1' }, t('v.result-title', { seq })), resultBox(result, 'verify-result', seq), entry && result.ok ? renderBannerCard(entry) : null);
}

function renderBannerCard(entry) {
  const card = renderCard(entry);
  // The banner's card must not be replaced by refreshSeq twice over.
  card.removeAttribute('data-card-seq');
  card.querySelector('.vresult')?.remove();
  return card;
}

async function verifyFromHash(seq) {
  S.banner = seq;
  S.results.set(seq, { status: 'running' });
  renderBanner(); // the banner is the first section: no need to scroll
  try {
    if (!S.entries.has(seq)) S.entries.set(seq, await getJson(`/api/v1/entries/${seq}`));
  } catch {
    // verifyEntry reports the fetch failure itself.
  }
  const shown = S.entries.get(seq);
  const result = await verifier.verifyEntry(seq, shown ? shown.leaf : null);
  recordResult(seq, result);
  renderBanner();
}

function handleHash() {
  const hash = decodeURIComponent(location.hash || '');
  const m = /^#verify=(\d+)$/.exec(hash);
  if (m) return verifyFromHash(Number(m[1]));
  if (hash === '#verify-all') {
    document.getElementById('trust-section')?.scrollIntoView({ block: 'start' });
    return verifyPage();
  }
  return Promise.resolve();
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

function renderAll() {
  renderChrome();
  renderBanner();
  renderBalances();
  renderTrust();
  renderChart();
  renderMine();
  renderProposals();
  renderEntries();
}

async function start() {
  const params = new URLSearchParams(location.search);
  let lang = params.get('lang');
  if (!lang) {
    try {
      lang = localStorage.getItem(LANG_KEY);
    } catch {
      lang = null;
    }
  }
  S.lang = lang === 'en' ? 'en' : 'zh';
  S.pinned = readPinned();
  // Shareable views: ?unit=3-1502 (e.g. a QR code on a household's bill),
  // ?fund=&category=&month=&payer= for the entry list.
  for (const k of ['fund', 'category', 'month', 'payer']) S.list.filters[k] = params.get(k) || '';
  const unit = (params.get('unit') || '').trim();
  renderAll();

  const load = async (fn) => {
    try {
      await fn();
    } catch (e) {
      S.loadError = String(e.message || e);
      renderChrome();
    }
  };
  const ledger = load(async () => {
    S.ledger = await getJson('/api/v1/ledger');
    await computeFingerprint();
    renderAll();
  });
  const balances = load(async () => {
    S.balances = await getJson('/api/v1/balances');
    await ledger;
    renderBalances();
  });
  const summary = load(async () => {
    S.summary = await getJson('/api/v1/summary');
    await ledger;
    renderChart();
    renderEntries();
  });
  const checkpoint = load(async () => {
    S.checkpointText = await getText('/checkpoint');
    await ledger;
    renderTrust();
    const parsed = parsedCheckpoint();
    if (parsed && parsed.cp.size > 0) {
      S.newest = await getJson(`/api/v1/entries/${parsed.cp.size - 1}`);
      renderTrust();
    }
  });
  const proposals = load(async () => {
    S.proposals = (await getJson('/api/v1/proposals')).proposals || [];
    await ledger;
    renderProposals();
  });
  const list = (async () => {
    await ledger;
    await loadList(true);
  })();
  const mine = unit ? loadMine(unit) : Promise.resolve();
  await Promise.all([ledger, balances, summary, checkpoint, proposals, list, mine]);
  document.documentElement.setAttribute('data-app', 'ready');
  window.addEventListener('hashchange', () => handleHash().catch(reportError));
  await handleHash();
}

start().catch(reportError);
