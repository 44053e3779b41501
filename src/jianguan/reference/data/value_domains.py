"""The value domains (值域) shipped with jianguan, as data: the shared spec of issue 4.

Each domain: (code, Chinese name, description, items); each item: (code, Chinese name) or
(code, Chinese name, is_standard). Order here is the display order. ``jianguan init`` adds what is
missing and never overwrites an admin's rename or retirement.
"""

from __future__ import annotations

Item = tuple[str, str] | tuple[str, str, bool]
DomainSpec = tuple[str, str, str, tuple[Item, ...]]

DOMAINS: tuple[DomainSpec, ...] = (
    ("entity_kind", "主体类型", "监管对象的主体类型", (
        ("enterprise", "企业"),
        ("individual_business", "个体工商户"),
        ("cooperative", "农民专业合作社"),
        ("natural_person", "特定自然人"),
        ("government_unit", "政府部门（督查对象）"),
    )),
    ("entity_status", "登记状态", "市场主体登记状态", (
        ("active", "存续"),
        ("cancelled", "注销"),
        ("revoked", "吊销"),
        ("moved_out", "迁出"),
    )),
    ("enterprise_scale", "企业规模", "大中小微企业划型", (
        ("large", "大型"),
        ("medium", "中型"),
        ("small", "小型"),
        ("micro", "微型"),
    )),
    ("credit_class", "信用等级", "信用风险分类（A–D）", (
        ("A", "A级（守信）"),
        ("B", "B级（基本守信）"),
        ("C", "C级（失信）"),
        ("D", "D级（严重失信）"),
    )),
    ("risk_level", "风险等级", "监管风险等级（红黄蓝）", (
        ("red", "高风险（红）"),
        ("yellow", "中风险（黄）"),
        ("blue", "低风险（蓝）"),
    )),
    ("licence_type", "许可证类型", "行政许可证件类型", (
        ("food_business", "食品经营许可证"),
        ("food_production", "食品生产许可证"),
        ("pollutant_discharge", "排污许可证"),
        ("road_transport", "道路运输经营许可证"),
        ("hazardous_chemicals", "危险化学品经营许可证"),
        ("special_equipment", "特种设备使用登记证"),
        ("industrial_product", "工业产品生产许可证"),
        ("drug_business", "药品经营许可证"),
    )),
    ("penalty_kind", "处罚种类", "行政处罚种类：九个标准选项（《行政处罚法》第九条），90、99 为扩展代码", (
        ("1", "警告"),
        ("2", "通报批评"),
        ("3", "罚款"),
        ("4", "没收违法所得"),
        ("5", "没收非法财物"),
        ("6", "暂扣许可证件"),
        ("7", "降低资质等级"),
        ("8", "吊销许可证件"),
        ("9", "限制开展生产经营活动、责令停产停业、责令关闭、限制从业"),
        ("90", "行政拘留", False),
        ("99", "法律、行政法规规定的其他行政处罚", False),
    )),
    ("entity_tag", "主体标签", "监管对象标签", (
        ("abnormal_list", "经营异常名录"),
        ("key_industry", "重点行业"),
        ("complaint_heavy", "投诉集中"),
        ("serious_violation", "严重违法失信"),
        ("first_violation_waiver", "首违不罚"),
    )),
    ("enforcement_domain", "执法领域", "执法主体和执法人员的执法领域", (
        ("market", "市场监管"),
        ("food", "食品安全"),
        ("special_equipment", "特种设备"),
        ("ecology", "生态环境"),
        ("emergency", "应急管理"),
        ("transport", "交通运输"),
        ("health", "卫生健康"),
        ("urban", "城市管理"),
        ("inspection", "督查"),
    )),
    ("credential_status", "执法证状态", "执法证状态（是否过期由有效期推出，不是状态）", (
        ("valid", "有效"),
        ("suspended", "暂扣"),
        ("revoked", "吊销"),
    )),
    ("inspection_method", "检查方式", "监管事项的检查方式", (
        ("on_site", "现场检查"),
        ("online", "网络检查"),
        ("documents", "书面检查"),
        ("remote_video", "远程视频检查"),
        ("mystery_shopper", "神秘顾客"),
    )),
    ("item_change", "事项变更类型", "监管事项目录的纳入、调整和退出", (
        ("admission", "纳入"),
        ("adjustment", "调整"),
        ("exit", "退出"),
    )),
    ("check_severity", "要点严重程度", "检查要点不符合时的严重程度", (
        ("general", "一般"),
        ("serious", "严重"),
    )),
    ("answer_type", "答案类型", "检查要点的作答方式", (
        ("yes_no", "是/否/不适用"),
        ("number", "数值"),
        ("choice", "选项"),
        ("text", "文字"),
        ("photo", "拍照"),
    )),
    ("plan_kind", "检查计划类型", "检查计划的类型", (
        ("routine_random", "日常双随机抽查"),
        ("targeted", "定向抽查"),
        ("campaign", "专项检查"),
        ("follow_up", "回头看"),
        ("complaint", "投诉举报触发"),
        ("unannounced", "四不两直"),
        ("joint", "部门联合检查"),
    )),
    ("case_source", "案件来源", "行政处罚案件线索的来源", (
        ("inspection_finding", "监督检查发现"),
        ("complaint", "投诉举报"),
        ("risk_warning", "风险预警"),
        ("transfer", "其他部门移送"),
        ("assigned", "上级交办"),
        ("other", "其他"),
    )),
    ("matter_level", "督查事项层级", "督查事项来自哪一级的决策部署", (
        ("central", "中央决策部署"),
        ("provincial", "省级重点任务"),
        ("city", "市级事项"),
        ("county", "县级事项"),
    )),
    ("accountability_measure", "问责方式", "对督查发现问题的责任单位和责任人采取的问责措施", (
        ("interview", "约谈"),
        ("circulate_criticism", "通报批评"),
        ("self_review", "责令书面检查"),
        ("admonish", "诫勉"),
        ("organisational", "组织处理"),
        ("disciplinary", "党纪政务处分"),
        ("refer", "移送纪检监察机关"),
    )),
    ("complaint_category", "投诉举报类别", "公众投诉举报的事项类别，用于分派承办部门", (
        ("food_safety", "食品安全"),
        ("product_quality", "产品质量"),
        ("price", "价格收费"),
        ("advertising", "虚假广告"),
        ("consumer_rights", "消费维权"),
        ("special_equipment", "特种设备"),
        ("licence", "无证无照经营"),
        ("environment", "生态环境"),
        ("work_safety", "安全生产"),
        ("transport", "交通运输"),
        ("urban", "城市管理"),
        ("other", "其他"),
    )),
)
