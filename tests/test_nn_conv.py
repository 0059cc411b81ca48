"""Conv2d, MaxPool2d and Flatten: values and gradients held to torch float64, numerical derivatives,
layout, state dicts, init, errors, composition in Sequential and a few training steps on digits.

The reference numbers below come from torch 2.13.0 in float64 (torch is not needed to run
these tests).  For each case, ``random.Random(seed)`` draws, in this order, the input
[1][C][H][W], the weight [O][C][kh][kw], the bias [O] (conv only) and an upstream gradient g
shaped like the output, each entry ``uniform(-1, 1)`` (``randint(0, 2)`` for the pooling
inputs marked ``ties``); torch computed y = conv2d(x, w, b, stride, padding) (or
max_pool2d(x, kernel, stride)), then backward of Σ g·y.  Each string is the tensor's entries
in row-major order.  ``tests/conv_reference.py`` prints them again (run by hand, with torch).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Value, dot, gradcheck
from autograd.node import op_of, operands
from nn.conv import Conv2d, Flatten, MaxPool2d

CONV_REF = {
    (2, 3, 5, 4, 3, 1, 0, 1): (
        # y, shape [1, 3, 3, 2]
        (
            "-0.3732588212037239 1.2397111225689894 0.9274236602823617 1.1574437858014874 -2.71563252188241 "
            "0.7611984830143692 0.12340205757443115 2.5028331763073326 0.04644274258346516 0.7643691385177834 "
            "0.32250021734200757 1.1316491741471406 -1.5392819560885682 -1.74630834024679 -0.2947735930555174 "
            "-2.3147460707295604 -0.09506748791289302 -1.7000863557347436"
        ),
        # x.grad, shape [1, 2, 5, 4]
        (
            "-0.3728339295773718 0.04557866920439067 0.3038265144533249 -0.09821283631712525 "
            "0.021301032092685523 -0.8069460045715795 0.16956245612180845 0.9291483640196776 "
            "0.9877822210335395 0.7009610908556548 -1.0682860329843904 -0.6217409931932563 "
            "-0.9808570160804287 -2.0634114096072578 0.4848314084702955 -0.5819730437068856 "
            "0.3334115102789958 -0.15030412526268322 0.7829805456051466 0.07592472792852568 "
            "-0.09808612369937564 0.24917700090681114 0.1016473464150213 0.001096542653999815 "
            "-0.21590307546991952 -0.6680570691815936 1.0496021025875986 0.18110359595372788 "
            "-0.9642806805901474 -1.8727552627459096 -0.3494351365799167 -0.4673164899272944 "
            "0.8661470950732609 1.8732414106633448 -0.2120827812965858 -0.8607146607283632 0.5411220378286898 "
            "-0.5987794083259355 -1.206962999660596 -0.4714867071838688"
        ),
        # weight.grad, shape [3, 2, 3, 3]
        (
            "-0.584183866529146 -0.7675771372847409 -0.1197321973799837 1.193531171917109 -1.1754778611636982 "
            "0.08349707332598924 0.38360361014690836 1.062747437904242 0.09408012151041922 "
            "0.10367338506860985 0.8891579125276148 0.1666229287521271 -0.4420170628600101 0.2350922129594788 "
            "0.008152659336231605 0.6646308875409194 0.4427612762395346 0.9484067927705864 0.6522281941866358 "
            "-0.15388566454607078 -0.7129318617677438 0.06108248526587634 0.19774797905304162 "
            "-0.09056722277351953 0.9836538079128758 0.4215708539516233 -0.8474206996304587 "
            "0.6698527317485776 0.19454706587507778 -0.2187662790135985 0.5118620307220868 "
            "0.23028587939198875 0.7862429215533826 -0.08455979610541126 0.10998855378879065 "
            "0.4662215688008674 1.1200504256487802 0.08910426982406838 -0.8267446602711125 1.2927273539071724 "
            "0.09726695396354623 0.04850786949899599 0.20184621857162266 -0.8953786100190315 "
            "-0.10162989204660788 0.05130117571190081 1.4694051710780442 1.4039877248305734 "
            "0.19960360170597363 0.5694677183762339 1.0402150828520014 -0.3472210742787855 "
            "0.03676248954397787 0.9374056273906329"
        ),
        # bias.grad, shape [3]
        "0.004519229126583424 -1.1383366417306091 -1.7422400160411917",
    ),
    (1, 2, 6, 5, (3, 2), (2, 1), (1, 2), 2): (
        # y, shape [1, 2, 3, 8]
        (
            "-0.292426044316793 0.31693960107161134 0.5682050538595903 -0.7960455813107966 "
            "-1.4073635773555309 0.2978500068861506 -0.20416675243592475 -0.292426044316793 "
            "-0.292426044316793 -1.1030799045254205 -1.6088071445758092 -0.027167710627500716 "
            "-0.42638945571240877 0.17521956419842705 -0.5197551741703567 -0.292426044316793 "
            "-0.292426044316793 -2.4358120940562484 -2.01251994201337 -0.8193309535308145 "
            "-0.22868822880548367 0.257963343198209 -0.46754229247185325 -0.292426044316793 "
            "0.9619531461442532 1.9771226898654903 2.562717485942237 0.6167362392662743 -0.20794520907312875 "
            "1.3535601059874398 1.3888256664820806 0.9619531461442532 0.9619531461442532 1.9476182359534677 "
            "2.0966227939816027 1.0921070238819388 0.5300437445446957 1.1917984498271164 1.0954826933814563 "
            "0.9619531461442532 0.9619531461442532 1.2486430008090963 1.5125490801979984 1.318914544440734 "
            "0.3956794405986133 -0.5946398756193312 -0.01608426174852784 0.9619531461442532"
        ),
        # x.grad, shape [1, 1, 6, 5]
        (
            "-0.5463552507350158 1.4526507356721983 0.7669421879630521 -0.05219138977161655 "
            "0.23097486781126012 0.1609644226853008 1.215918790519379 -0.18379510260494303 "
            "-0.9818524794868587 0.14384479804310343 0.19128252428107786 0.1506807965027404 "
            "1.6017035589740949 0.5980463192078153 -0.46519105684729894 -0.6169120966373821 1.046239421294624 "
            "0.2566943409702477 -1.0716823189833673 -0.5581298697124675 -0.3104738371175014 "
            "-0.5776856506492919 -0.9158346397492302 0.42038177358736645 -1.2747703843593645 "
            "-0.2773730371847175 0.05137985906769904 0.01181475424465539 -0.5484102845563728 "
            "0.15922829231269603"
        ),
        # weight.grad, shape [2, 1, 3, 2]
        (
            "-1.3073411733067266 -0.2193593290264637 1.1154311810481854 0.1469297724543528 "
            "0.009375642427384534 0.4266303314576001 0.19014539852071577 -0.802208274157616 1.867077005274345 "
            "-0.36996466173583165 2.3983699909455694 -0.4263233373077221"
        ),
        # bias.grad, shape [2]
        "4.43063400921684 2.5745561051955694",
    ),
    (2, 1, 4, 4, 2, 2, 1, 3): (
        # y, shape [1, 1, 3, 3]
        (
            "0.3217344519393317 0.1324174442756824 0.5566475970589888 0.6119644501583333 0.6425844686309313 "
            "0.973500065671658 0.983590574702069 1.3375732436273062 1.7159135073120786"
        ),
        # x.grad, shape [1, 2, 4, 4]
        (
            "-0.11122817294197623 -0.028054594404718802 0.22066525531260708 0.04407583601904405 "
            "0.008717909449072737 0.04795287863836655 -0.13737537511570616 0.0626394190350926 "
            "0.012619790325835588 0.025282424216580543 -0.1988605685824851 0.03302567874326277 "
            "0.10239818040805293 -0.035398086161694986 0.1014084139038578 -0.16982391242688655 "
            "0.0722681015669527 -0.18441568671151945 -0.14337248074323802 0.2897306391094769 "
            "-0.011662527700307441 -0.17296587737327307 0.18377618246510435 -0.22594018084429135 "
            "-0.008199436032244236 0.1661929435290078 0.12920535677123796 0.21709289882046612 "
            "-0.1369848611580861 0.12768078172044542 -0.1356607846303998 0.6125543000952758"
        ),
        # weight.grad, shape [1, 2, 2, 2]
        (
            "-0.5757561138637882 0.38726178558756147 0.07871756441931761 -0.23221960460986854 "
            "0.9532048617972648 0.033703157587857566 0.22479887423959755 -0.19532719277594163"
        ),
        # bias.grad, shape [1]
        "0.36276751717443645",
    ),
    (3, 2, 5, 5, (2, 3), (1, 2), (0, 1), 4): (
        # y, shape [1, 2, 4, 3]
        (
            "-2.420944523543373 1.292329085931375 -2.2070746452829555 0.8770665201116931 3.090509634482768 "
            "-1.1321184620001743 0.4389669638786102 0.004814397516102881 -1.7999597533727407 "
            "1.7207979180341328 0.04120317474231278 1.4945529093413854 2.6547354017042197 -2.5973459305813003 "
            "-0.20553441285191304 -0.8849232139696591 0.355909821047529 1.2992071617322802 0.6199681287411556 "
            "-2.211482453689697 -2.5068192865310164 0.7544258496154419 1.8320912074910427 -1.5398533778572712"
        ),
        # x.grad, shape [1, 3, 5, 5]
        (
            "0.5254238360872506 0.45464611522873194 -0.8215910641568774 -1.3162648617818034 "
            "0.047268589645261885 1.1504733229698452 -0.5830216606478746 -1.1102535815927344 "
            "1.3597771503171732 1.00180305229931 1.284435465952236 -0.8645424923151934 -0.06979241455289034 "
            "1.4930698116173144 0.8465063521169001 -0.14674321576688248 -1.0724213240404337 "
            "0.058116449218987176 0.7651429869438742 -1.3400557139851488 -0.37834123405758124 "
            "1.2289385234354968 0.44818409135386605 -1.3730437273022877 -1.0282137204745094 "
            "0.6011160600835888 0.05751144491258124 -0.9817298451445189 -0.9732742196820792 "
            "0.055698244154238366 1.6671479451416114 1.825929741477343 -0.733545613681705 -0.5562184100255071 "
            "1.1773394639691985 0.8313469850843366 1.0496949406651628 -0.3420505578875001 -0.4069038223161475 "
            "0.4664292196375054 -0.513426563481141 0.2858129940844188 -0.14656961744384628 1.5473478851108837 "
            "-1.0985672535860027 -0.7122483505634577 -0.6411043576190741 -0.0031956167239476033 "
            "1.4011833200918873 -0.576019144161033 -1.1037597392027028 -2.1940763237021494 "
            "-0.2767676260674122 0.06719020765137826 -0.021637485978945128 -0.6623632180917696 "
            "-0.03162746684752216 0.5972135863881276 1.075026130597473 0.014754306163580692 "
            "0.7959048662565684 1.1364095302056523 1.1670847621596683 0.11199782642721917 -0.9319746879725821 "
            "1.461563030428809 2.151665876040194 1.6150764009723964 0.5145797627964255 -0.9418251791560249 "
            "1.175640461530417 0.5774781937036064 0.7434263674445503 1.2202786593419064 -0.23424317761828328"
        ),
        # weight.grad, shape [2, 3, 2, 3]
        (
            "0.8904428219524267 -1.3216420907580162 -0.18456626383454244 -2.13137232275333 "
            "-1.4286429418066338 -0.3568707625706531 0.24024076772957526 -1.1008677489254317 "
            "-0.6305799141592787 1.731914012139909 0.12637418295850827 -1.417795219432851 "
            "-0.18470546175148986 -0.23534469884138565 0.8089114065034034 0.6241833561387451 "
            "1.8349324949215555 -0.03374794378325617 -1.6258597457672808 -2.1720096132721385 "
            "-2.4452245039463554 1.6474489221454918 0.018419145588204344 0.28186930346238154 "
            "0.32955916990561196 -0.9400987010793254 -0.0580359692168152 -2.6888735069598795 "
            "1.1771734893821921 -0.7562146775734763 1.0578740483465627 2.925159010364114 -0.3200313483083559 "
            "0.6769309078373682 0.2633760411592526 0.06253052470914812"
        ),
        # bias.grad, shape [2]
        "-0.6863102994168413 -1.6447785403008606",
    ),
}
POOL_REF = {
    (2, 5, 5, 2, None, 5, False): (
        # y, shape [1, 2, 2, 2]
        (
            "0.844649993330834 0.8867134339966274 0.8018009835012454 -0.06186190443567252 0.9648422176518505 "
            "0.922955977900167 0.787483355152957 0.8819520021759981"
        ),
        # x.grad, shape [1, 2, 5, 5]
        (
            "0.0 0.0 0.0 0.0 0.0 -0.3242062767442697 0.0 0.0 -0.3800841367937424 0.0 0.6370361492941417 0.0 "
            "-0.03850962673992209 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 "
            "-0.3684137883071119 0.0 0.0 -0.03756322752627228 0.0 0.0 0.0 -0.8859981409284201 0.0 0.0 "
            "0.4093382682818185 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0"
        ),
    ),
    (1, 6, 5, (3, 2), (1, 2), 6, False): (
        # y, shape [1, 1, 4, 2]
        (
            "0.6439080846394536 0.5194612701957861 0.6038309663252073 0.6102480996979465 0.6067306192226265 "
            "0.6885646495923299 0.609563026584486 0.6885646495923299"
        ),
        # x.grad, shape [1, 1, 6, 5]
        (
            "0.0 0.26983770424739806 0.0 0.0 0.0 0.0 0.0 -0.4176328763730688 0.0 0.0 0.0 0.902746007527159 "
            "0.0 0.0 0.0 0.0 0.0 0.0 0.17713959370201504 0.0 -0.5982513602390263 0.0 1.176282416960581 0.0 "
            "0.0 0.0 -0.27924086918380775 0.0 0.0 0.0"
        ),
    ),
    (2, 4, 5, 2, 1, 7, True): (
        # y, shape [1, 2, 3, 4]
        "2.0 2.0 2.0 2.0 2.0 2.0 1.0 2.0 2.0 2.0 0.0 0.0 2.0 2.0 2.0 2.0 2.0 2.0 2.0 2.0 2.0 2.0 1.0 1.0",
        # x.grad, shape [1, 2, 4, 5]
        (
            "0.0 0.0 0.0 0.24921636644393153 0.0 0.0 -1.9512522699555805 0.0 0.2778269378523681 "
            "-0.25520491454853755 0.0 -0.7789331186342381 -0.8807976600675347 -0.5880825743613469 0.0 0.0 0.0 "
            "0.0 0.0 0.0 0.3607999463635718 0.0 0.0 -0.20058193223113951 0.0 0.0 -0.6389126421922788 "
            "0.5887589630449823 0.3979888674591425 0.0 -0.5118069785556942 0.148847420517342 "
            "0.050393007622902886 0.0 0.0 0.0 0.0 0.0 0.7502749911468578 0.0"
        ),
    ),
}


def _pair(v: Any) -> tuple[int, int]:
    return v if isinstance(v, tuple) else (v, v)


def _numbers(text: str) -> list[float]:
    return [float(t) for t in text.split()]


def _draws(r: random.Random, n: int, ties: bool = False) -> list[float]:
    return [float(r.randint(0, 2)) if ties else r.uniform(-1, 1) for _ in range(n)]


def _nest(flat: list[Any], *shape: int) -> Any:
    """Row-major ``flat`` as nested lists of ``shape``."""
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [_nest(flat[i * step : (i + 1) * step], *shape[1:]) for i in range(shape[0])]


def _flat(nested: Any) -> list[Any]:
    return [v for item in nested for v in _flat(item)] if isinstance(nested, list) else [nested]


def _close(got: list[float], want: list[float], tol: float = 1e-12) -> None:
    assert len(got) == len(want)
    worst = max(abs(a - b) for a, b in zip(got, want))
    assert worst <= tol, f"largest difference {worst:.3g}"


def _sum_weighted(ys: list[Value], g: list[float]) -> Value:
    return dot(ys, g)  # Σ g·y as one node: the upstream gradient of y is exactly g


@pytest.mark.parametrize("case", sorted(CONV_REF, key=repr), ids=repr)
def test_conv2d_values_and_gradients_equal_torch_float64(case: tuple[Any, ...]) -> None:
    C, Co, H, W, k, s, p, seed = case
    kh, kw = _pair(k)
    r = random.Random(seed)
    x = _nest([Value(v) for v in _draws(r, C * H * W)], C, H, W)
    conv = Conv2d(C, Co, k, stride=s, padding=p, seed=0)
    conv.load_state_dict({"weight": _nest(_draws(r, Co * C * kh * kw), Co, C, kh, kw), "bias": _draws(r, Co)})
    ys = _flat(conv(x))
    _sum_weighted(ys, _draws(r, len(ys))).backward()
    want_y, want_gx, want_gw, want_gb = map(_numbers, CONV_REF[case])
    _close([v.data for v in ys], want_y)
    _close([v.grad for v in _flat(x)], want_gx)
    _close([w.grad for w in _flat(conv.weight)], want_gw)
    _close([b.grad for b in conv.bias or []], want_gb)


@pytest.mark.parametrize("case", sorted(POOL_REF, key=repr), ids=repr)
def test_max_pool2d_values_and_gradients_equal_torch_float64(case: tuple[Any, ...]) -> None:
    C, H, W, k, s, seed, ties = case
    r = random.Random(seed)
    x = _nest([Value(v) for v in _draws(r, C * H * W, ties)], C, H, W)
    ys = _flat(MaxPool2d(k, s)(x))
    _sum_weighted(ys, _draws(r, len(ys))).backward()
    want_y, want_gx = map(_numbers, POOL_REF[case])
    _close([v.data for v in ys], want_y)
    _close([v.grad for v in _flat(x)], want_gx)


def test_max_pool2d_on_a_tie_picks_the_first_maximum_in_row_major_order() -> None:
    x = [[[Value(1.0), Value(3.0)], [Value(3.0), Value(3.0)]]]
    (y,) = _flat(MaxPool2d(2)(x))
    assert (y.op, y.data) == ("max_first", 3.0)  # max_first(max_first(max_first(x00, x01), x10), x11)
    y.backward()
    assert [v.grad for v in _flat(x)] == [0.0, 1.0, 0.0, 0.0]  # the first 3.0 in row-major order takes it all


def _conv_function(C: int, Co: int, H: int, W: int, k: Any, s: Any, p: Any, pool: Any = None) -> Any:
    """f(*inputs, *weights, *biases) = Σ gᵢ·tanh(yᵢ) with y = conv (then max pool), for gradcheck."""
    kh, kw = _pair(k)
    conv = Conv2d(C, Co, k, stride=s, padding=p, seed=1)
    n_x, n_w = C * H * W, Co * C * kh * kw

    def f(*vs: Value) -> Value:
        conv.weight = _nest(list(vs[n_x : n_x + n_w]), Co, C, kh, kw)
        conv.bias = list(vs[n_x + n_w :])
        y = conv(_nest(list(vs[:n_x]), C, H, W))
        ys = [v.tanh() for v in _flat(pool(y) if pool is not None else y)]
        return _sum_weighted(ys, [0.5 + 0.1 * i for i in range(len(ys))])

    return f, n_x + n_w + Co


@pytest.mark.parametrize(
    "shape",
    [(2, 2, 4, 5, 3, 1, 1, None), (1, 3, 5, 5, (2, 3), (2, 1), (0, 1), None), (2, 2, 6, 6, 3, 1, 1, MaxPool2d(2))],
    ids=["padded", "rectangular", "with pool"],
)
def test_conv2d_and_pool_gradients_match_numerical_derivatives(shape: tuple[Any, ...]) -> None:
    C, Co, H, W, k, s, p, pool = shape
    f, n = _conv_function(C, Co, H, W, k, s, p, pool)
    r = random.Random(len(repr(shape)))
    assert gradcheck(f, [r.uniform(-1, 1) for _ in range(n)])


def test_each_output_pixel_is_one_dot_node_over_weights_receptive_field_and_bias() -> None:
    conv = Conv2d(2, 3, 2, seed=3)
    x = _nest([Value(float(i)) for i in range(2 * 3 * 3)], 2, 3, 3)
    y = conv(x)
    assert len(y) == 3 and all(len(ch) == 2 and all(len(row) == 2 for row in ch) for ch in y)
    node = y[1][1][0]
    assert getattr(op_of(node), "name", None) == "dot"
    field = [x[i][1 + ky][0 + kx] for i in range(2) for ky in range(2) for kx in range(2)]
    assert conv.bias is not None
    assert list(map(id, operands(node))) == list(map(id, _flat(conv.weight[1]) + field + [conv.bias[1]]))


def test_padding_leaves_the_zeros_out_of_the_node() -> None:
    conv = Conv2d(1, 1, 3, padding=1, seed=3)
    y = conv([[[1.0, 2.0], [3.0, 4.0]]])
    w = _flat(conv.to_torch_state_dict()["weight"])
    corner = y[0][0][0]
    assert conv.bias is not None
    assert len(operands(corner)) == 4 + 4 + 1  # the 2x2 image under the kernel's lower right 2x2, and the bias
    want = conv.bias[0].data + w[4] * 1.0 + w[5] * 2.0 + w[7] * 3.0 + w[8] * 4.0
    assert corner.data == pytest.approx(want, rel=1e-15)


def test_a_batch_gives_one_output_per_image_and_numpy_images_work() -> None:
    conv = Conv2d(1, 2, 3, stride=2, seed=4)
    X, _ = nn.make_digits(3, seed=0)
    batch = conv(X)  # a numpy array (3, 1, 8, 8)
    assert len(batch) == 3
    for image, out in zip(X, batch):
        assert [v.data for v in _flat(out)] == [v.data for v in _flat(conv(image.tolist()))]
    assert conv.output_shape((1, 8, 8)) == (2, 3, 3) and len(batch[0][0]) == 3


def test_state_dicts_use_torch_layout_and_load_back() -> None:
    conv = Conv2d(2, 3, (2, 3), seed=5)
    sd = conv.to_torch_state_dict()
    assert np.shape(sd["weight"]) == (3, 2, 2, 3) and np.shape(sd["bias"]) == (3,)
    assert sd["weight"][2][1][0][2] == conv.weight[2][1][0][2].data
    assert dict(conv.named_parameters())["weight.2.1.0.2"] is conv.weight[2][1][0][2]
    other = Conv2d(2, 3, (2, 3), seed=6)
    assert other.to_torch_state_dict() != sd
    other.load_state_dict(sd)
    assert other.to_torch_state_dict() == sd
    other.load_state_dict({key: np.array(value) * 2 for key, value in sd.items()})  # arrays (and tensors) too
    assert other.weight[2][1][0][2].data == 2 * sd["weight"][2][1][0][2]
    other.load_state_dict(Conv2d(2, 3, (2, 3), seed=7).state_dict())  # dotted names, as every module
    assert other.state_dict() == Conv2d(2, 3, (2, 3), seed=7).state_dict()
    assert "bias" not in Conv2d(1, 1, 2, bias=False).to_torch_state_dict()


def test_a_torch_state_of_the_wrong_shape_is_refused_and_changes_nothing() -> None:
    conv = Conv2d(1, 2, 2, seed=5)
    before = conv.state_dict()
    bad = {"weight": [[[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]] * 2, "bias": [0.0, 0.0]}  # kernel 2x3 for a 2x2 conv
    with pytest.raises(ValueError, match="weight"):
        conv.load_state_dict(bad)
    assert conv.state_dict() == before


def test_default_init_is_torchs_bound_seeded() -> None:
    conv = Conv2d(2, 4, 3, seed=8)
    bound = 1 / (2 * 3 * 3) ** 0.5
    params = [p.data for p in conv.parameters()]
    assert len(params) == 4 * 2 * 9 + 4
    assert all(-bound <= v <= bound for v in params) and max(map(abs, params)) > 0.8 * bound
    assert Conv2d(2, 4, 3, seed=8).state_dict() == conv.state_dict()
    assert Conv2d(2, 4, 3, seed=9).state_dict() != conv.state_dict()


def test_named_inits_draw_over_the_fan_in_and_start_biases_at_zero() -> None:
    conv = Conv2d(2, 3, 2, init="he_uniform", seed=1)
    bound = (6 / (2 * 2 * 2)) ** 0.5
    assert all(abs(w.data) <= bound for w in _flat(conv.weight))
    assert max(abs(w.data) for w in _flat(conv.weight)) > 1 / (2 * 2 * 2) ** 0.5  # wider than the default
    assert [b.data for b in conv.bias or []] == [0.0, 0.0, 0.0]
    assert {w.data for w in _flat(Conv2d(1, 2, 2, init="zeros").weight)} == {0.0}
    with pytest.raises(ValueError, match="Conv2d: unknown init 'nope'"):
        Conv2d(1, 1, 2, init="nope")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kernel_size=0), "Conv2d: kernel_size must be a positive int, got 0"),
        (dict(kernel_size=(3,)), r"Conv2d: kernel_size must be an int or a pair \(height, width\), got \(3,\)"),
        (dict(kernel_size="3"), "Conv2d: kernel_size must be a positive int, got '3'"),
        (dict(stride=True), "Conv2d: stride must be a positive int, got bool True"),
        (dict(padding=(1, -1)), r"Conv2d: padding\[1\] must be an int >= 0, got -1"),
        (dict(in_channels=0), "Conv2d: in_channels must be a positive int, got 0"),
        (dict(bias="yes"), "Conv2d: bias must be True or False, got 'yes'"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"in_channels": 1, "out_channels": 1, "kernel_size": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        Conv2d(**args)


@pytest.mark.parametrize(
    "image, error, message",
    [
        ([[[0.0] * 4] * 4] * 2, ValueError, r"Conv2d: the image has 2 channels but in_channels=1; build Conv2d\(2"),
        ([[[0.0] * 4, [0.0] * 3, [0.0] * 4]], ValueError, "Conv2d: row 1 of channel 0 has 3 entries, expected 4"),
        ([[0.0, 1.0, 2.0]], TypeError, "Conv2d: channel 0 must be a non-empty list of rows"),
        ([1.0, 2.0], TypeError, r"Conv2d: expected an image \[C\]\[H\]\[W\]"),
        ([[[0.0, "a"], [0.0, 0.0]]], TypeError, "Conv2d: pixel 'a' in channel 0, row 0 is not a Value or a number"),
        ([[[0.0] * 2] * 5], ValueError, "Conv2d: the kernel's width 3 is bigger than the input's width 2"),
    ],
)
def test_bad_images_are_named(image: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Conv2d(1, 1, 3)(image)


def test_ragged_channels_and_a_kernel_bigger_than_the_padded_input() -> None:
    with pytest.raises(
        ValueError, match="MaxPool2d: channel 1 has 2 rows but channel 0 has 3; images must not be ragged"
    ):
        MaxPool2d(2)([[[0.0] * 3] * 3, [[0.0] * 3] * 2])
    with pytest.raises(
        ValueError, match="Conv2d: the kernel's height 5 is bigger than the input's height 2 padded to 4"
    ):
        Conv2d(1, 1, 5, padding=1)([[[0.0] * 9] * 2])
    with pytest.raises(ValueError, match="MaxPool2d: the kernel's height 3 is bigger than the input's height 2"):
        MaxPool2d(3)([[[0.0] * 3] * 2])


def test_max_pool2d_floor_mode_and_default_stride() -> None:
    pool = MaxPool2d(2)
    assert pool.stride == (2, 2)
    x = [[[float(5 * y + c) for c in range(5)] for y in range(5)]]
    assert pool(x) == [[[6.0, 8.0], [16.0, 18.0]]]  # the last row and column fall off, as in torch
    assert pool.output_shape((3, 5, 5)) == (3, 2, 2)
    assert MaxPool2d((2, 3), stride=1).output_shape((1, 4, 4)) == (1, 3, 2)


def test_flatten_orders_channel_row_column() -> None:
    x = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    assert Flatten()(x) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert Flatten()([x, x]) == [[1, 2, 3, 4, 5, 6, 7, 8]] * 2
    assert Flatten().output_shape((2, 3, 4)) == (24,)


def _cnn(seed: int) -> nn.Sequential:
    conv = Conv2d(1, 3, 3, seed=seed, activation="relu")
    pool = MaxPool2d(2)
    flat = Flatten()
    width = flat.output_shape(pool.output_shape(conv.output_shape((1, 8, 8))))[0]
    return nn.Sequential(conv, pool, flat, nn.Layer(width, 10, activation="linear", seed=seed))


def test_an_activation_applies_to_every_output_pixel() -> None:
    image = _nest([float(v) for v in _draws(random.Random(0), 25)], 1, 5, 5)
    plain = _flat(Conv2d(1, 2, 3, seed=1)(image))
    relu = _flat(Conv2d(1, 2, 3, seed=1, activation="relu")(image))
    assert [v.data for v in relu] == [max(v.data, 0.0) for v in plain] and min(v.data for v in plain) < 0
    assert getattr(op_of(relu[0]), "name", None) == "relu"
    assert Conv2d(1, 2, 3).activation == "linear"
    with pytest.raises(ValueError, match="Conv2d: unknown activation 'nope'"):
        Conv2d(1, 1, 3, activation="nope")


def test_sequential_names_and_torch_layout_of_a_small_cnn() -> None:
    model = _cnn(0)
    names = [name for name, _ in model.named_parameters()]
    assert names[0] == "layers.0.weight.0.0.0.0" and "layers.0.bias.2" in names
    assert len(names) == 3 * 9 + 3 + 10 * 27 + 10
    sd = model.to_torch_state_dict()
    assert np.shape(sd["0.weight"]) == (3, 1, 3, 3) and np.shape(sd["3.weight"]) == (10, 27)


def test_a_few_steps_on_digits_lower_the_loss() -> None:
    X, y = nn.make_digits(30, seed=0)
    model = _cnn(1)
    opt = nn.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = nn.cross_entropy([model(image) for image in X.tolist()], y.tolist())
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.75 * losses[0]  # 2.44 -> 1.55 as written
    history = nn.fit(
        _cnn(2),
        list(zip(X.tolist(), y.tolist())),
        loss="cross_entropy",
        optimizer="adam",
        lr=0.05,
        batch_size=10,
        epochs=3,
        progress=False,
    )
    assert history.loss[-1] < history.loss[0]


def test_describe_reads_a_conv_layer_as_one_unit_per_output_channel() -> None:
    from nn.structure import describe

    model = _cnn(0)
    st = describe(model)
    assert [(layer.name, layer.kind, layer.nin, layer.nout) for layer in st.layers] == [
        ("layers.0", "conv2d", 1, 3),
        ("layers.3", "dense", 27, 10),
    ]
    conv = st.layers[0]
    assert conv.module is model[0] and conv.activation == "relu" and not st.is_dense_stack()
    unit = conv.units[2]
    assert unit.name == "layers.0 channel 2" and unit.kind == "kernel"
    assert list(map(id, unit.weights)) == list(map(id, _flat(model[0].weight[2])))
    assert unit.roles[5][0] == "w.0.1.2" and unit.roles[-1] == ("b", model[0].bias[2])
    assert st.unit_of(model[0].weight[2][0][1][2]) is unit
    assert describe(Conv2d(2, 1, 2, bias=False)).layers[0].units[0].biases == ()
